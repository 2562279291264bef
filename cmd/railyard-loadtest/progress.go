package main

import (
	"fmt"
	"io"
	"os"
)

// progressLine writes the progress line: on a terminal it rewrites one
// line in place, elsewhere (a log file, CI) it writes one line per
// update. It is not safe for concurrent use.
type progressLine struct {
	w        io.Writer
	terminal bool
	written  bool
}

// print shows line.
func (p *progressLine) print(line string) {
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.written = true
}

// finish ends the line on a terminal, so that what follows starts on a
// line of its own.
func (p *progressLine) finish() {
	if p.terminal && p.written {
		fmt.Fprintln(p.w)
	}
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
