package argocd

import (
	"errors"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// yamlWriter appends YAML to a byte slice. It knows only what the two
// documents need: block mappings, block sequences and string or boolean
// scalars, with a two-space indent.
//
// Why not gopkg.in/yaml.v3: its emitter costs about 200 µs and 87 KB of
// allocations per Application (it keeps every event of a document), which
// made the single-file layout of 1,000 applications take about 250 ms per
// event — the cost that made Kuberpult slow. This writer takes a few
// microseconds. yaml.v3 stays the reference: the tests encode the same
// documents with it and require the same values back, and a fuzz test
// round-trips arbitrary strings through scalar.
type yamlWriter struct {
	b   []byte
	err error
	// inline is set after "- ": the next line's first field goes on it.
	inline bool
}

// maxKeyLength is YAML's limit for an implicit (single-line) mapping key,
// as written (quotes and escapes count). Bytes, not characters: stricter.
const maxKeyLength = 1024

// Errors of the writer. Both mean input the domain should have rejected:
// Kubernetes annotation keys are at most 317 characters, and Railyard's
// input is JSON, which is valid UTF-8.
var (
	errInvalidUTF8 = errors.New("argocd: a value is not valid UTF-8")
	errKeyTooLong  = errors.New("argocd: a key is longer than YAML allows (1024 characters as written)")
)

func (w *yamlWriter) pad(indent int) {
	if w.inline {
		w.inline = false
		return
	}
	for range indent {
		w.b = append(w.b, ' ')
	}
}

func (w *yamlWriter) key(indent int, k string) {
	w.pad(indent)
	start := len(w.b)
	w.scalar(k)
	if len(w.b)-start > maxKeyLength && w.err == nil {
		w.err = errKeyTooLong
	}
	w.b = append(w.b, ':')
}

// mapping starts a nested mapping or sequence under key k.
func (w *yamlWriter) mapping(indent int, k string) {
	w.key(indent, k)
	w.b = append(w.b, '\n')
}

func (w *yamlWriter) str(indent int, k, v string) {
	w.key(indent, k)
	w.b = append(w.b, ' ')
	w.scalar(v)
	w.b = append(w.b, '\n')
}

// optional writes k only when v is not empty.
func (w *yamlWriter) optional(indent int, k, v string) {
	if v != "" {
		w.str(indent, k, v)
	}
}

func (w *yamlWriter) boolean(indent int, k string, v bool) {
	w.key(indent, k)
	w.b = append(w.b, ' ')
	w.b = strconv.AppendBool(w.b, v)
	w.b = append(w.b, '\n')
}

// list writes a sequence of strings under k, leaving it out when empty.
func (w *yamlWriter) list(indent int, k string, items []string) {
	if len(items) == 0 {
		return
	}
	w.mapping(indent, k)
	for _, item := range items {
		w.pad(indent + 2)
		w.b = append(w.b, "- "...)
		w.scalar(item)
		w.b = append(w.b, '\n')
	}
}

// item starts a mapping in a sequence; its fields use indent+2.
func (w *yamlWriter) item(indent int) {
	w.pad(indent)
	w.b = append(w.b, "- "...)
	w.inline = true
}

// scalar writes s plain when that is certain to read back as the same
// string, in YAML 1.2 and in the YAML 1.1 of sigs.k8s.io/yaml (which Argo
// CD and kubectl use), and double-quoted otherwise.
func (w *yamlWriter) scalar(s string) {
	if isPlainSafe(s) {
		w.b = append(w.b, s...)
		return
	}
	w.b = append(w.b, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			if w.err == nil {
				w.err = errInvalidUTF8
			}
			return
		}
		i += size
		switch {
		case r == '"':
			w.b = append(w.b, `\"`...)
		case r == '\\':
			w.b = append(w.b, `\\`...)
		case r == '\n':
			w.b = append(w.b, `\n`...)
		case r == '\t':
			w.b = append(w.b, `\t`...)
		case r == ' ' || (r < utf8.RuneSelf && r > ' ' && r != 0x7f) || (r >= utf8.RuneSelf && unicode.IsPrint(r) && r != 0xFEFF):
			w.b = utf8.AppendRune(w.b, r)
		case r <= 0xFFFF:
			// Control characters, line and paragraph separators, other
			// invisible characters: escaped, so the text stays on one line.
			w.b = append(w.b, `\u`...)
			w.b = appendHex(w.b, uint32(r), 4)
		default:
			w.b = append(w.b, `\U`...)
			w.b = appendHex(w.b, uint32(r), 8)
		}
	}
	w.b = append(w.b, '"')
}

func appendHex(b []byte, v uint32, digits int) []byte {
	const hex = "0123456789abcdef"
	for shift := (digits - 1) * 4; shift >= 0; shift -= 4 {
		b = append(b, hex[(v>>uint(shift))&0xf])
	}
	return b
}

// isPlainSafe reports whether s can be written as a plain scalar. It is
// deliberately narrow: names, paths, URLs, "Key=value" options and short
// phrases pass; anything else is quoted, which is always correct.
//
// The first character is a letter or '/', so s cannot be a number, a
// timestamp, null (~) or start with an indicator; the words YAML 1.1 reads
// as booleans or null are excluded; a space may not start or end s, follow
// ':' or precede '#' or another space; ':' may not end s.
func isPlainSafe(s string) bool {
	if s == "" || !(isLetter(s[0]) || s[0] == '/') || s[len(s)-1] == ' ' || s[len(s)-1] == ':' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case isLetter(c) || (c >= '0' && c <= '9'):
		case c == '-' || c == '.' || c == '/' || c == '_' || c == '=' || c == '+' || c == '*' || c == '@' || c == '~':
		case c == ':':
			if s[i+1] == ' ' {
				return false
			}
		case c == ' ':
			if s[i-1] == ':' || s[i+1] == ' ' || s[i+1] == '#' {
				return false
			}
		default:
			return false
		}
	}
	return !isBoolOrNull(s)
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// isBoolOrNull reports the words YAML 1.1 or 1.2 resolves to a boolean or
// null in any case (YAML itself accepts only some spellings, but quoting
// all of them costs nothing).
func isBoolOrNull(s string) bool {
	if len(s) > 5 {
		return false
	}
	var lower [5]byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	switch string(lower[:len(s)]) {
	case "y", "n", "yes", "no", "true", "false", "on", "off", "null":
		return true
	}
	return false
}
