package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/railyard-cd/railyard"
	"gopkg.in/yaml.v3"
)

// Output formats of -o.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatYAML  = "yaml"
)

// timeLayout is how tables show times: in UTC, to the second.
const timeLayout = "2006-01-02 15:04:05"

// checkFormat rejects an unknown output format.
func checkFormat(format string) error {
	switch format {
	case formatTable, formatJSON, formatYAML:
		return nil
	}
	return usageErrorf("output format %q is not known: use table, json or yaml", format)
}

// printer writes what a command returns in the chosen format: JSON and
// YAML print the API objects as they are, tables are for people.
type printer struct {
	w      io.Writer
	format string
}

// printer returns the printer for a client command's options.
func (m *Main) printer(o *clientOptions) *printer {
	return &printer{w: m.Stdout, format: o.output}
}

// print writes v as JSON or YAML, or calls table to write it for people.
func (p *printer) print(v any, table func(w io.Writer)) error {
	switch p.format {
	case formatJSON:
		return writeJSON(p.w, v)
	case formatYAML:
		return writeYAML(p.w, v)
	}
	tw := newTabWriter(p.w)
	table(tw)
	return tw.Flush()
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

// writeYAML writes v as YAML with the field names and order of its JSON
// form (the API's names), by way of a YAML node tree.
func writeYAML(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode YAML: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("encode YAML: %w", err)
	}
	plainStyle(&doc)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("encode YAML: %w", err)
	}
	return enc.Close()
}

// plainStyle turns JSON's flow collections and quoted strings into YAML's
// block style; the encoder still quotes strings that would read as
// another type.
func plainStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		plainStyle(c)
	}
}

// newTabWriter returns the writer tables are aligned with.
func newTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// row writes one table row.
func row(w io.Writer, cells ...string) {
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// formatTime formats a time for tables.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(timeLayout)
}

// formatTimePtr formats an optional time, "-" if there is none.
func formatTimePtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return formatTime(*t)
}

// orDash returns s, or "-" if it is empty, so that no table cell is blank.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// summary returns the first line of s, cut to at most n characters.
func summary(s string, n int) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	line = strings.TrimSpace(line)
	return railyard.Truncate(line, n)
}

// joinOrDash joins items with ", ", or returns "-" if there are none.
func joinOrDash(items []string) string {
	if len(items) == 0 {
		return "-"
	}
	return strings.Join(items, ", ")
}

// indent prefixes every line of text with prefix.
func indent(text, prefix string) string {
	var b bytes.Buffer
	for _, line := range strings.SplitAfter(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(prefix + line)
	}
	b.WriteString("\n")
	return b.String()
}
