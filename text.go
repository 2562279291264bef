package railyard

import (
	"net/url"
	"strconv"
	"unicode/utf8"
)

// The rules for text that reaches Git or a terminal.
//
// Every string a user gives ends up in a commit (its message, its author
// header, a file), in an event description shown by the CLI and the UI,
// or in a generated Argo CD document. Git does not escape what it writes:
// a NUL in a commit message ends the message for Git (it hid the
// Railyard-Event trailer, so the exporter wrote the event again after
// every restart), a newline in an author header forges a header, ANSI
// escape sequences (ESC, CSI) rewrite a terminal, and bidirectional
// override characters make a line read differently from what it says
// ("Trojan Source"). So text is refused, with the field and the offending
// character named, when it:
//
//   - is not valid UTF-8;
//   - holds a control character: C0 (U+0000–U+001F, ESC included), DEL
//     (U+007F) or C1 (U+0080–U+009F). Multi-line text (a release's source
//     message, a lock message) may hold line feeds and tabs; carriage
//     returns are refused there too, since a lone one overwrites the line
//     in a terminal;
//   - holds a bidirectional embedding, override or isolate (U+202A–U+202E,
//     U+2066–U+2069), anywhere. Right-to-left text needs none of them;
//     the implicit marks (U+200E, U+200F, U+061C) stay allowed;
//   - in one-line text, holds a line or paragraph separator (U+2028,
//     U+2029), which some terminals and every JavaScript parser treat as
//     a line break.

// validateLine checks one-line text: a name, a subject, an identifier.
func validateLine(field, s string) error {
	return checkText(field, s, false)
}

// validateMultiline checks multi-line text: line feeds and tabs are
// allowed, everything else as for validateLine.
func validateMultiline(field, s string) error {
	return checkText(field, s, true)
}

// checkText applies the rules above; multiline allows '\n' and '\t'.
func checkText(field, s string, multiline bool) error {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c >= ' ' && c != 0x7f) || (multiline && (c == '\n' || c == '\t')) {
				i++
				continue
			}
			return textError(field, "control characters", rune(c), i)
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return Errorf(EINVALID, "%s is not valid UTF-8 (byte 0x%02X at byte %d)", field, c, i).WithField(field)
		case r >= 0x80 && r <= 0x9f:
			return textError(field, "control characters", r, i)
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			return textError(field, "bidirectional embedding, override or isolate characters", r, i)
		case !multiline && (r == 0x2028 || r == 0x2029):
			return textError(field, "line or paragraph separators", r, i)
		}
		i += n
	}
	return nil
}

// textError names the field, the kind of character and where it is:
// "displayVersion must not contain control characters (found U+0000 at
// byte 3)".
func textError(field, what string, r rune, at int) error {
	return Errorf(EINVALID, "%s must not contain %s (found %U at byte %d)", field, what, r, at).WithField(field)
}

// maxLinkBytes bounds a link (ciLink): long enough for any CI system's
// job URL, short enough for a commit message and a table cell.
const maxLinkBytes = maxShortFieldBytes

// validateLink checks an optional link to a CI run: one line of text, an
// absolute http or https URL.
func validateLink(field, link string) error {
	if link == "" {
		return nil
	}
	if len(link) > maxLinkBytes {
		return Errorf(EINVALID, "%s is longer than %d bytes", field, maxLinkBytes).WithField(field)
	}
	if err := validateLine(field, link); err != nil {
		return err
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errorf(EINVALID, "%s %q must be an http or https URL", field, Truncate(link, maxQuoted)).WithField(field)
	}
	// A link is written into the manifest repository, the audit log and
	// the UI, which everyone who may read them can see: a user name or
	// password in it would be a leaked credential. The message does not
	// repeat the link, so it does not leak either.
	if u.User != nil {
		return Errorf(EINVALID, "%s must not contain a user name or password (the part before '@'): links are shown to everyone who reads the history and the manifest repository", field).WithField(field)
	}
	return nil
}

// Truncate shortens s to at most n characters, ending with "…" when it
// cut, and never inside a UTF-8 sequence. It is the one way Railyard
// shortens text for people: in error messages, summaries, tables and
// pages.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	count := 0
	for i := range s {
		if count == n-1 {
			return s[:i] + "…"
		}
		count++
	}
	return s
}

// VersionLabel names a release version for people, the same way in the
// CLI, the API's messages and the UI: "42", or "42 (1.4.2)" when the
// release has a display version that says more than the number.
func VersionLabel(version int64, display string) string {
	v := strconv.FormatInt(version, 10)
	if display == "" || display == v {
		return v
	}
	return v + " (" + display + ")"
}
