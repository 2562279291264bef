package railyard

import (
	"testing"
	"unicode/utf8"
)

func TestTextRules(t *testing.T) {
	t.Parallel()
	const ctl = "f must not contain control characters (found "
	cases := []struct {
		in        string
		multiline bool
		want      string // "" means accepted
	}{
		{"v1.2.3 (build 7) <bob@example.com> #42", false, ""},
		{"Grüße ✓ 日本 עברית العربية", false, ""},
		{"marks\u200e\u200f\u061c stay", false, ""},
		{"nbsp\u00a0and ZWJ\u200d", false, ""},
		{"", false, ""},
		{"a\x00b", false, ctl + "U+0000 at byte 1)"},
		{"a\x00b", true, ctl + "U+0000 at byte 1)"},
		{"red \x1b[31malert\x1b[0m", false, ctl + "U+001B at byte 4)"},
		{"bell\x07", true, ctl + "U+0007 at byte 4)"},
		{"del\x7f", false, ctl + "U+007F at byte 3)"},
		{"nel\u0085", false, ctl + "U+0085 at byte 3)"},
		{"csi\u009b31m", true, ctl + "U+009B at byte 3)"},
		{"line\nbreak", false, ctl + "U+000A at byte 4)"},
		{"tab\there", false, ctl + "U+0009 at byte 3)"},
		{"line\nbreak\tand tab", true, ""},
		{"crlf\r\n", true, ctl + "U+000D at byte 4)"},
		{"évil\u202egnp.exe", false, "f must not contain bidirectional embedding, override or isolate characters (found U+202E at byte 5)"},
		{"isolate\u2066", true, "f must not contain bidirectional embedding, override or isolate characters (found U+2066 at byte 7)"},
		{"pop\u202c", true, "f must not contain bidirectional embedding, override or isolate characters (found U+202C at byte 3)"},
		{"a\u2028b", false, "f must not contain line or paragraph separators (found U+2028 at byte 1)"},
		{"a\u2029b", false, "f must not contain line or paragraph separators (found U+2029 at byte 1)"},
		{"a\u2028b", true, ""},
		{"ab\xff", false, "f is not valid UTF-8 (byte 0xFF at byte 2)"},
		{"ab\xff", true, "f is not valid UTF-8 (byte 0xFF at byte 2)"},
		{"\xed\xa0\x80", false, "f is not valid UTF-8 (byte 0xED at byte 0)"}, // an encoded surrogate
		{"\xc0\x80", false, "f is not valid UTF-8 (byte 0xC0 at byte 0)"},     // an overlong NUL
		{"é\xe2\x82", false, "f is not valid UTF-8 (byte 0xE2 at byte 2)"},    // truncated
	}
	for _, tc := range cases {
		err := checkText("f", tc.in, tc.multiline)
		if got := ErrorMessage(err); got != tc.want {
			t.Errorf("checkText(%q, multiline %v) = %q, want %q", tc.in, tc.multiline, got, tc.want)
		}
		if err != nil && AsError(err).Field != "f" {
			t.Errorf("checkText(%q): field %q, want f", tc.in, AsError(err).Field)
		}
	}
}

func TestValidateLink(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"https://ci.example.com/job/1?a=b#c", ""},
		{"http://ci:8080/x", ""},
		{"ftp://ci/x", `ciLink "ftp://ci/x" must be an http or https URL`},
		{"https://", `ciLink "https://" must be an http or https URL`},
		{"/relative", `ciLink "/relative" must be an http or https URL`},
		{"https://ci/\u0085", "ciLink must not contain control characters (found U+0085 at byte 11)"},
		{"https://ci/\u202e", "ciLink must not contain bidirectional embedding, override or isolate characters (found U+202E at byte 11)"},
		{"https://ci/\x1b[2J", "ciLink must not contain control characters (found U+001B at byte 11)"},
		{"https://ci/" + string(make([]byte, 1000)), "ciLink is longer than 1000 bytes"},
	} {
		if got := ErrorMessage(validateLink("ciLink", tc.in)); got != tc.want {
			t.Errorf("validateLink(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestMessagesQuoteWholeCharacters checks that a message quoting a long
// input (Truncate with maxQuoted) keeps 60 whole characters: it never
// cuts a UTF-8 sequence.
func TestMessagesQuoteWholeCharacters(t *testing.T) {
	t.Parallel()
	s := "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "日本語" // 59 ASCII bytes, then 3-byte characters
	if got, want := Truncate(s, maxQuoted), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa日…"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := Truncate(s+"x", maxQuoted); !utf8.ValidString(got) {
		t.Errorf("got %q: not UTF-8", got)
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"", 5, ""},
		{"short", 5, "short"},
		{"longer", 5, "long…"},
		{"Größenänderung", 4, "Grö…"},
		{"日本語のテキスト", 3, "日本…"},
		{"abc", 1, "…"},
		{"abc", 0, ""},
	} {
		if got := Truncate(tc.s, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestVersionLabel(t *testing.T) {
	for _, tc := range []struct {
		v       int64
		display string
		want    string
	}{
		{42, "", "42"},
		{42, "42", "42"},
		{42, "1.4.2", "42 (1.4.2)"},
	} {
		if got := VersionLabel(tc.v, tc.display); got != tc.want {
			t.Errorf("VersionLabel(%d, %q) = %q, want %q", tc.v, tc.display, got, tc.want)
		}
	}
}
