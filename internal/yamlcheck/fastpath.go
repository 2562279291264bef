package yamlcheck

import (
	"strings"
	"unicode/utf8"
)

// The fast path (see the package documentation): one pass over the
// input, no allocation, and "certainly well-formed" or "not sure".

const (
	// fastYAMLMaxDepth bounds the nesting the fast path follows, so its
	// state fits on the stack (yaml.v3 itself stops at 10000).
	fastYAMLMaxDepth = 64
	// fastYAMLMaxKey bounds key length well under yaml.v3's limit of 1024
	// characters between a simple key and its ':'.
	fastYAMLMaxKey = 512
	// fastYAMLMaxKeys bounds the keys of the open mappings the fast path
	// remembers (the mappings from the root to the current line), so its
	// state stays on the stack and comparing a key with its siblings stays
	// cheap. Larger mappings go to the full check.
	fastYAMLMaxKeys = 256
)

// yamlFrame is one open block collection.
type yamlFrame struct {
	indent int  // column of the keys or of the '-' indicators
	seq    bool // a sequence, else a mapping
	// indentless marks a sequence at the same column as the key that
	// holds it ("containers:\n- name: x").
	indentless bool
	// firstKey and keys locate the mapping's keys in yamlChecker.keys:
	// the keys of the open frames are a stack, each frame's above its
	// parent's. A sequence has none.
	firstKey, keys int
	// seen has bit h%512 set for the hash h of each of its keys, so that
	// a new key is compared with its siblings only when its bit is set:
	// a ConfigMap's hundred keys would otherwise cost thousands of
	// comparisons.
	seen [8]uint64
}

// keyRef is a key of an open mapping: its text is s[off:off+n], h its
// hash.
type keyRef struct {
	off, n int
	h      uint64
}

// yamlChecker is the state of one run of the fast path. Its zero value is
// not ready: use WellFormed.
type yamlChecker struct {
	s      string
	frames [fastYAMLMaxDepth]yamlFrame
	depth  int
	keys   [fastYAMLMaxKeys]keyRef

	// open means the last key or sequence entry has no value on its own
	// line: the next content line may start its value (a nested
	// collection), or the value is null. openIndent is the indentation of
	// the collection that owns it, -1 for the document's root.
	open        bool
	openIndent  int
	openFromKey bool

	begun bool // the document has a "---" or content ("..." is allowed)
	ended bool // after "...": only comments and markers may follow
}

// WellFormed is the fast path: it reports whether manifest is certainly a
// stream of YAML documents that yaml.v3 accepts, without a mapping that
// repeats a key. false means "not sure"; Validate then decides.
func WellFormed(manifest string) bool {
	c := yamlChecker{s: manifest}
	c.startDocument()
	return c.run()
}

func (c *yamlChecker) startDocument() {
	c.depth = 0
	c.open, c.openIndent, c.openFromKey = true, -1, false
	c.begun, c.ended = false, false
}

// run checks the stream line by line.
func (c *yamlChecker) run() bool {
	s := c.s
	i := 0
	for i < len(s) {
		j := i
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if j == len(s) {
			return true
		}
		var ok bool
		switch b := s[j]; {
		case b == '\n':
			i, ok = j+1, true
		case b == '#':
			i, ok = c.comment(j + 1)
		case j == i && (b == '-' || b == '.') && len(s)-j >= 3 && (s[j:j+3] == "---" || s[j:j+3] == "..."):
			i, ok = c.marker(j)
		default:
			if c.ended {
				return false
			}
			c.begun = true
			i, ok = c.contentLine(i, j-i)
		}
		if !ok {
			return false
		}
	}
	return true
}

// marker handles a line at column 0 that starts with "---" or "...".
func (c *yamlChecker) marker(j int) (int, bool) {
	s := c.s
	k := j + 3
	if k < len(s) && s[k] != ' ' && s[k] != '\n' {
		return 0, false // "---x" is a plain scalar; rare enough to leave to yaml.v3
	}
	next, ok := c.lineTail(k)
	if !ok {
		return 0, false
	}
	if s[j] == '-' {
		c.startDocument()
		c.begun = true
		return next, true
	}
	// "..." ends a document; yaml.v3 rejects it before any document.
	if !c.begun && !c.ended {
		return 0, false
	}
	c.ended = true
	return next, true
}

// contentLine handles a line whose first non-space character, at column
// ind, is content (not a comment or a document marker).
func (c *yamlChecker) contentLine(i, ind int) (int, bool) {
	p := i + ind
	if c.open {
		c.open = false
		if ind > c.openIndent {
			return c.nestedNode(i, ind)
		}
		if ind == c.openIndent && c.openFromKey && c.isSeqEntry(p) {
			if !c.push(yamlFrame{indent: ind, seq: true, indentless: true}) {
				return 0, false
			}
			return c.seqEntry(i, ind)
		}
		// The open value is null; the line continues an outer collection.
	}
	for c.depth > 0 && c.frames[c.depth-1].indent > ind {
		c.depth--
	}
	if c.depth == 0 || c.frames[c.depth-1].indent != ind {
		return 0, false
	}
	top := &c.frames[c.depth-1]
	if top.seq {
		if c.isSeqEntry(p) {
			return c.seqEntry(i, ind)
		}
		if !top.indentless {
			return 0, false
		}
		c.depth-- // back to the mapping that holds the sequence, at the same column
	}
	vs, isKey, ok := c.key(p)
	if !ok || !isKey || !c.addKey(p, vs) {
		return 0, false
	}
	return c.value(vs, ind, true)
}

// nestedNode handles the first line of the value of an open key or entry
// (or of the document's root): a sequence, a mapping, or, at the root
// only, a scalar.
func (c *yamlChecker) nestedNode(i, ind int) (int, bool) {
	p := i + ind
	if c.isSeqEntry(p) {
		if !c.push(yamlFrame{indent: ind, seq: true}) {
			return 0, false
		}
		return c.seqEntry(i, ind)
	}
	vs, isKey, ok := c.key(p)
	if !ok {
		return 0, false
	}
	if isKey {
		if !c.push(yamlFrame{indent: ind}) || !c.addKey(p, vs) {
			return 0, false
		}
		return c.value(vs, ind, true)
	}
	// A scalar on a line of its own may continue on the next lines; only
	// a document that is one single-line scalar is followed here (with no
	// collection open, any later content line makes contentLine give up).
	if c.depth > 0 {
		return 0, false
	}
	return c.value(p, -1, false)
}

// seqEntry handles a line whose "- " indicator is at column ind, the
// indentation of the innermost sequence.
func (c *yamlChecker) seqEntry(i, ind int) (int, bool) {
	s := c.s
	r := i + ind + 1
	for r < len(s) && s[r] == ' ' {
		r++
	}
	if r < len(s) && s[r] != '\n' && s[r] != '#' {
		if c.isSeqEntry(r) {
			return 0, false // "- - x": rare in manifests
		}
		vs, isKey, ok := c.key(r)
		if !ok {
			return 0, false
		}
		if isKey {
			// A compact mapping: its keys are at the column of this one.
			col := r - i
			if !c.push(yamlFrame{indent: col}) || !c.addKey(r, vs) {
				return 0, false
			}
			return c.value(vs, col, true)
		}
	}
	return c.value(r, ind, false)
}

func (c *yamlChecker) push(f yamlFrame) bool {
	if c.depth == len(c.frames) {
		return false
	}
	if c.depth > 0 {
		parent := &c.frames[c.depth-1]
		f.firstKey = parent.firstKey + parent.keys
	}
	c.frames[c.depth] = f
	c.depth++
	return true
}

// isSeqEntry reports whether a "-" block sequence indicator is at p.
func (c *yamlChecker) isSeqEntry(p int) bool {
	s := c.s
	return s[p] == '-' && (p+1 == len(s) || s[p+1] == ' ' || s[p+1] == '\n')
}

// key reads a simple key at p: a plain key of common characters or a
// single-line quoted one, followed by ':' and a space or line end. It
// returns the position after the ':' when it is a key. ok is false when
// the fast path must give up.
func (c *yamlChecker) key(p int) (vs int, isKey, ok bool) {
	s := c.s
	q := p
	switch b := s[p]; {
	case b == '"' || b == '\'':
		if q, ok = c.quoted(p); !ok {
			return 0, false, false
		}
	case isKeyFirst(b):
		q++
		for q < len(s) && isKeyByte(s[q]) {
			q++
		}
	default:
		return p, false, true
	}
	if q < len(s) && s[q] == ':' && (q+1 == len(s) || s[q+1] == ' ' || s[q+1] == '\n') {
		if q-p > fastYAMLMaxKey {
			return 0, false, false
		}
		return q + 1, true, true
	}
	return p, false, true
}

// addKey records the key that starts at p, whose ':' is just before vs,
// as a key of the innermost mapping. It returns false when the mapping
// already has that key, when the key has escapes (its value is not its
// text), or when there is no room left: all cases for the full check.
func (c *yamlChecker) addKey(p, vs int) bool {
	s := c.s
	start, end := p, vs-1
	switch s[p] {
	case '"':
		start, end = p+1, vs-2
		if strings.IndexByte(s[start:end], '\\') >= 0 {
			return false
		}
	case '\'':
		start, end = p+1, vs-2
		if strings.IndexByte(s[start:end], '\'') >= 0 {
			return false // '' is an escaped quote
		}
	}
	f := &c.frames[c.depth-1]
	key := s[start:end]
	h := keyHash(key)
	word, bit := (h>>61)%uint64(len(f.seen)), uint64(1)<<(h>>55&63)
	if f.seen[word]&bit != 0 {
		for _, k := range c.keys[f.firstKey : f.firstKey+f.keys] {
			if k.h == h && s[k.off:k.off+k.n] == key {
				return false
			}
		}
	}
	next := f.firstKey + f.keys
	if next == len(c.keys) {
		return false
	}
	f.seen[word] |= bit
	c.keys[next] = keyRef{off: start, n: len(key), h: h}
	f.keys++
	return true
}

// keyHash hashes a key from its length and its first and last eight
// bytes, a few instructions whatever its length: it only decides which
// keys are compared in full, so collisions cost time, never correctness.
// Keys differ mostly at their ends ("key0001", "key0002"), which the
// multiplications spread over the high bits.
func keyHash(key string) uint64 {
	var first, last uint64
	if len(key) >= 8 {
		first, last = load64(key, 0), load64(key, len(key)-8)
	} else {
		for i := 0; i < len(key); i++ {
			first |= uint64(key[i]) << (8 * i)
		}
	}
	h := (first*0x9E3779B97F4A7C15 ^ last*0xC2B2AE3D27D4EB4F ^ uint64(len(key))) * 0x165667B19E3779F9
	return h ^ h>>29
}

func isKeyFirst(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_' || b == '.' || b == '/'
}

func isKeyByte(b byte) bool {
	return isKeyFirst(b) || b == '-'
}

// value checks the value that starts at or after q (spaces first) and runs
// to the end of the line, or over the following lines for a block scalar.
// parent is the indentation of the collection that holds the value. It
// returns the start of the next line to read.
func (c *yamlChecker) value(q, parent int, fromKey bool) (int, bool) {
	s := c.s
	for q < len(s) && s[q] == ' ' {
		q++
	}
	if q == len(s) || s[q] == '\n' || s[q] == '#' {
		// Nothing (or a comment; the ':' or '-' before it is followed by a
		// space, so it is one).
		c.open, c.openIndent, c.openFromKey = true, parent, fromKey
		switch {
		case q == len(s):
			return q, true
		case s[q] == '#':
			return c.comment(q + 1)
		}
		return q + 1, true
	}
	switch b := s[q]; b {
	case '"', '\'':
		r, ok := c.quoted(q)
		if !ok {
			return 0, false
		}
		return c.lineTail(r)
	case '|', '>':
		return c.blockScalar(q+1, parent)
	case '[', '{':
		return c.flow(q)
	case '-':
		if q+1 == len(s) || s[q+1] == ' ' || s[q+1] == '\n' {
			return 0, false // a sequence entry where a scalar must be
		}
		return c.plain(q)
	case '?', ':', ',', ']', '}', '&', '*', '!', '%', '@', '`':
		return 0, false // complex keys, anchors, aliases, tags, reserved
	default:
		return c.plain(q)
	}
}

// plain checks a single-line plain scalar from q, and a comment after it.
func (c *yamlChecker) plain(q int) (int, bool) {
	s := c.s
	for q < len(s) {
		q = skipWords(s, q, ':', '#')
		for end := min(q+8, len(s)); q < end; {
			switch b := s[q]; {
			case b == '\n':
				return q + 1, true
			case b == ':':
				if q+1 == len(s) || s[q+1] == ' ' || s[q+1] == '\n' {
					return 0, false // "a: b: c" or "a: b:"
				}
				q++
			case b == '#':
				// value() never starts a plain scalar with '#'.
				if s[q-1] == ' ' {
					return c.comment(q + 1)
				}
				q++
			case b >= ' ' && b < 0x7f:
				q++
			case b >= utf8.RuneSelf:
				n := printableRune(s, q)
				if n == 0 {
					return 0, false
				}
				q += n
			default:
				return 0, false // tab or control character
			}
		}
	}
	return q, true
}

// lineTail checks that only spaces and a comment follow position q on its
// line, and returns the start of the next line.
func (c *yamlChecker) lineTail(q int) (int, bool) {
	s := c.s
	r := q
	for r < len(s) && s[r] == ' ' {
		r++
	}
	switch {
	case r == len(s):
		return r, true
	case s[r] == '\n':
		return r + 1, true
	case s[r] == '#' && r > q:
		return c.comment(r + 1)
	}
	return 0, false
}

// comment checks the text of a comment from q to the end of its line.
func (c *yamlChecker) comment(q int) (int, bool) {
	return c.text(q, false)
}

// text checks that the bytes from q to the end of the line are printable
// (tabs only if tabs is set) and returns the start of the next line.
func (c *yamlChecker) text(q int, tabs bool) (int, bool) {
	s := c.s
	for q < len(s) {
		q = skipWords(s, q, 0x7f, 0x7f)
		for end := min(q+8, len(s)); q < end; {
			switch b := s[q]; {
			case b >= ' ' && b < 0x7f:
				q++
			case b == '\n':
				return q + 1, true
			case b == '\t' && tabs:
				q++
			case b >= utf8.RuneSelf:
				n := printableRune(s, q)
				if n == 0 {
					return 0, false
				}
				q += n
			default:
				return 0, false
			}
		}
	}
	return q, true
}

// quoted checks a quoted scalar that starts at q and ends on the same
// line, and returns the position after its closing quote.
func (c *yamlChecker) quoted(q int) (int, bool) {
	s := c.s
	quote, special := s[q], byte('\\')
	if quote == '\'' {
		special = '\''
	}
	q++
	for q < len(s) {
		q = skipWords(s, q, quote, special)
		for end := min(q+8, len(s)); q < end; {
			switch b := s[q]; {
			case b == quote:
				if quote == '\'' && q+1 < len(s) && s[q+1] == '\'' {
					q += 2 // '' is an escaped quote
					continue
				}
				return q + 1, true
			case b == '\\' && quote == '"':
				n := escapeLen(s, q+1)
				if n == 0 {
					return 0, false
				}
				q += 1 + n
			case b >= ' ' && b < 0x7f:
				q++
			case b >= utf8.RuneSelf:
				n := printableRune(s, q)
				if n == 0 {
					return 0, false
				}
				q += n
			default:
				return 0, false // line break (multi-line scalar), tab, control
			}
		}
	}
	return 0, false
}

// escapeLen returns the length of the double-quoted escape sequence whose
// character after the backslash is at q, or 0 if yaml.v3 would reject it
// or it continues the scalar on the next line.
func escapeLen(s string, q int) int {
	if q == len(s) {
		return 0
	}
	digits := 0
	switch s[q] {
	case '0', 'a', 'b', 't', 'n', 'v', 'f', 'r', 'e', ' ', '"', '\'', '\\', 'N', '_', 'L', 'P':
		return 1
	case 'x':
		digits = 2
	case 'u':
		digits = 4
	case 'U':
		digits = 8
	default:
		return 0
	}
	if len(s)-q-1 < digits {
		return 0
	}
	v := 0
	for _, h := range []byte(s[q+1 : q+1+digits]) {
		switch {
		case '0' <= h && h <= '9':
			v = v<<4 | int(h-'0')
		case 'a' <= h && h <= 'f':
			v = v<<4 | int(h-'a'+10)
		case 'A' <= h && h <= 'F':
			v = v<<4 | int(h-'A'+10)
		default:
			return 0
		}
	}
	if v >= 0xD800 && v <= 0xDFFF || v > 0x10FFFF {
		return 0
	}
	return 1 + digits
}

// printableRune returns the length of the UTF-8 encoded character at q if
// YAML allows it and it is not one of the line breaks or the byte order
// mark that yaml.v3 treats specially; otherwise 0.
func printableRune(s string, q int) int {
	r, n := utf8.DecodeRuneInString(s[q:])
	switch {
	case r == utf8.RuneError && n == 1:
		return 0
	case r >= 0xA0 && r <= 0xD7FF && r != 0x2028 && r != 0x2029,
		r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF,
		r >= 0x10000 && r <= 0x10FFFF:
		return n
	}
	return 0
}

// flow checks the flow collections that manifests commonly hold on one
// line: "[]", "{}", and sequences of single-line quoted scalars and plain
// words ("[a, "b c"]"). q is at the opening bracket.
func (c *yamlChecker) flow(q int) (int, bool) {
	s := c.s
	closing := byte(']')
	if s[q] == '{' {
		closing = '}'
	}
	q = skipSpaces(s, q+1)
	if q < len(s) && s[q] == closing {
		return c.lineTail(q + 1)
	}
	if closing == '}' {
		return 0, false
	}
	for q < len(s) {
		var ok bool
		if s[q] == '"' || s[q] == '\'' {
			q, ok = c.quoted(q)
		} else {
			q, ok = flowWord(s, q)
		}
		if !ok {
			return 0, false
		}
		q = skipSpaces(s, q)
		switch {
		case q < len(s) && s[q] == ']':
			return c.lineTail(q + 1)
		case q < len(s) && s[q] == ',':
			q = skipSpaces(s, q+1)
		default:
			return 0, false
		}
	}
	return 0, false
}

// flowWord checks a plain scalar inside a flow sequence, restricted to
// letters, digits and "_./=+-" (starting with a letter, digit, '_', '.'
// or '/', or with '-' and a letter, digit or '-'), and returns its end.
func flowWord(s string, q int) (int, bool) {
	start := q
	for q < len(s) {
		b := s[q]
		if !(isKeyByte(b) || b == '=' || b == '+') {
			break
		}
		q++
	}
	switch {
	case q == start:
		return 0, false
	case s[start] == '=' || s[start] == '+':
		return 0, false
	case s[start] == '-':
		if q-start < 2 || !isAlnum(s[start+1]) && s[start+1] != '-' {
			return 0, false // "- " would be a sequence entry
		}
	}
	return q, true
}

func isAlnum(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

func skipSpaces(s string, q int) int {
	for q < len(s) && s[q] == ' ' {
		q++
	}
	return q
}

// blockScalar checks a literal or folded block scalar whose indicator
// ('|' or '>') is just before q, in a collection indented by parent, and
// returns the start of the first line after it.
func (c *yamlChecker) blockScalar(q, parent int) (int, bool) {
	s := c.s
	if parent < 0 {
		return 0, false // a document that is a block scalar: rare
	}
	explicit, chomp := 0, false
	for range 2 {
		if q == len(s) {
			break
		}
		if b := s[q]; (b == '+' || b == '-') && !chomp {
			chomp = true
			q++
		} else if b >= '1' && b <= '9' && explicit == 0 {
			explicit = int(b - '0')
			q++
		}
	}
	i, ok := c.lineTail(q)
	if !ok {
		return 0, false
	}
	// As yaml.v3 does: an explicit indentation is relative to the
	// collection; otherwise the first non-empty line sets it, but it
	// cannot be less than the empty lines before it.
	indent, maxLeading := 0, 0
	if explicit > 0 {
		indent = parent + explicit
	}
	for i < len(s) {
		j := skipSpaces(s, i)
		sp := j - i
		if j == len(s) {
			return j, true
		}
		if s[j] == '\n' {
			maxLeading = max(maxLeading, sp)
			i = j + 1
			continue
		}
		if indent == 0 {
			if sp <= parent {
				return i, true // an empty scalar
			}
			if sp < maxLeading {
				return 0, false
			}
			indent = sp
		}
		if sp < indent {
			return i, true
		}
		if s[j] == '\t' {
			return 0, false
		}
		if i, ok = c.text(j, true); !ok {
			return 0, false
		}
	}
	return i, true
}

// Scalars are most of a manifest's bytes, so their scanners skip eight
// ordinary bytes at a time ("SIMD within a register") and look at bytes
// one by one only around anything special.
const (
	swarOnes  = 0x0101010101010101
	swarHighs = 0x8080808080808080
)

// skipWords returns the position of the first eight-byte word from q on
// that holds a control character (line breaks and tabs included), a
// non-ASCII byte, DEL, a or b; or of the last, shorter than eight bytes.
func skipWords(s string, q int, a, b byte) int {
	for ; q+8 <= len(s); q += 8 {
		if specialWord(load64(s, q), a, b) {
			break
		}
	}
	return q
}

// specialWord reports whether any byte of x is less than ' ', is at least
// 0x7f, or is a or b.
func specialWord(x uint64, a, b byte) bool {
	// (x - n*ones) &^ x has the high bit of some byte set if a byte is
	// less than n, as long as no byte has its own high bit set; x itself
	// shows those.
	low := (x - swarOnes*' ') &^ x
	return (low|x|hasZeroByte(x^swarOnes*0x7f)|hasZeroByte(x^swarOnes*uint64(a))|hasZeroByte(x^swarOnes*uint64(b)))&swarHighs != 0
}

// hasZeroByte is non-zero in the high bit of some byte if a byte of x is
// zero.
func hasZeroByte(x uint64) uint64 {
	return (x - swarOnes) &^ x & swarHighs
}

// load64 reads the eight bytes of s at q as a little-endian word; the
// compiler turns it into one load.
func load64(s string, q int) uint64 {
	s = s[q : q+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
