package railyard

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds of an event description. An event's description is what a
// person reads in git log, the history page and the CLI, so it stays
// readable however many applications one event moves: a summary line of
// at most MaxSummaryLength characters, then, when the summary cannot say
// everything, a blank line and at most MaxDetailLines detail lines of at
// most MaxDetailLineLength characters each, the last of which may say
// "… and 3,836 more". The whole is at most MaxDescriptionBytes long.
const (
	MaxSummaryLength    = 100
	MaxDetailLines      = 20
	MaxDetailLineLength = 200
	MaxDescriptionBytes = 8 << 10
)

// maxMessageExcerpt is how much of a person's message (a lock's) a
// summary or blocker quotes: its first line, cut at this many characters.
const maxMessageExcerpt = 60

// maxScheduleLabel is how much of a deploy window's schedule or duration
// a blocker quotes.
const maxScheduleLabel = 60

// morePrefix starts the last detail line when details were left out.
const morePrefix = "… and "

// moreReserve is the room kept for the "… and N more" line when the byte
// bound decides how many detail lines fit.
const moreReserve = 40

// Description is an event description split into its parts.
type Description struct {
	// Summary is one line of at most MaxSummaryLength characters.
	Summary string
	// Details are the lines under the summary, without the "… and N
	// more" line.
	Details []string
	// More is the number of detail lines left out.
	More int
}

// NewDescription bounds a summary and its detail lines: control
// characters and invalid UTF-8 become spaces or U+FFFD, a summary longer
// than MaxSummaryLength is cut (with "…") and then repeated in full as
// the first detail line, lines are cut at MaxDetailLineLength, and lines
// past MaxDetailLines or MaxDescriptionBytes are counted in More.
func NewDescription(summary string, details ...string) Description {
	d := Description{Summary: oneLine(summary)}
	var lines []string
	if utf8.RuneCountInString(d.Summary) > MaxSummaryLength {
		lines = append(lines, shorten(d.Summary, MaxDetailLineLength))
		d.Summary = shorten(d.Summary, MaxSummaryLength)
	}
	for _, l := range details {
		if l = shorten(oneLine(l), MaxDetailLineLength); l != "" {
			lines = append(lines, l)
		}
	}
	size := len(d.Summary) + 1 + moreReserve
	for i, l := range lines {
		if size += len(l) + 1; i == MaxDetailLines || size > MaxDescriptionBytes {
			d.More = len(lines) - i
			lines = lines[:i]
			break
		}
	}
	if len(lines) > 0 {
		d.Details = lines
	}
	return d
}

// ParseDescription splits a stored description into its parts and
// bounds them as NewDescription does, so a description recorded before
// the bounds existed (one line of any length) reads as a short summary
// with the whole line, cut, as its detail.
func ParseDescription(s string) Description {
	s = strings.ToValidUTF8(s, "\uFFFD")
	summary, rest, _ := strings.Cut(s, "\n")
	var details []string
	for _, l := range strings.Split(rest, "\n") {
		if strings.TrimSpace(l) != "" {
			details = append(details, l)
		}
	}
	more := 0
	if n := len(details); n > 0 {
		if m, ok := parseMoreLine(details[n-1]); ok {
			details, more = details[:n-1], m
		}
	}
	d := NewDescription(summary, details...)
	d.More += more
	return d
}

// String is the description as an event stores it: the summary, and the
// detail lines after a blank line.
func (d Description) String() string {
	if len(d.Details) == 0 && d.More == 0 {
		return d.Summary
	}
	var b strings.Builder
	b.WriteString(d.Summary)
	b.WriteString("\n")
	for _, l := range d.Details {
		b.WriteString("\n" + l)
	}
	if m := d.MoreLine(); m != "" {
		b.WriteString("\n" + m)
	}
	return b.String()
}

// Body is the detail lines, the "… and N more" line included, one per
// line: the body of the event's commit message; "" if there are none.
func (d Description) Body() string {
	_, body, _ := strings.Cut(d.String(), "\n\n")
	return body
}

// MoreLine says how many detail lines were left out: "… and 3,836
// more", or "" if none were.
func (d Description) MoreLine() string {
	if d.More <= 0 {
		return ""
	}
	return morePrefix + FormatCount(d.More) + " more"
}

// parseMoreLine reads a MoreLine back.
func parseMoreLine(l string) (int, bool) {
	s, ok := strings.CutPrefix(l, morePrefix)
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, " more")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	return n, err == nil && n > 0
}

// FormatCount writes n with thousands separators: 3,856.
func FormatCount(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// countOf says how many: "1 queued application", "3,856 queued
// applications". plural is singular+"s" unless given.
func countOf(n int, singular string, plural ...string) string {
	noun := singular + "s"
	if len(plural) > 0 {
		noun = plural[0]
	}
	if n == 1 {
		noun = singular
	}
	return FormatCount(n) + " " + noun
}

// oneLine makes s one line of text: every control character (newlines,
// tabs, escapes) and line or paragraph separator becomes a space, invalid
// UTF-8 becomes U+FFFD, and surrounding space goes.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	clean := true
	for _, r := range s {
		if unsafeInLine(r) {
			clean = false
			break
		}
	}
	if !clean {
		s = strings.Map(func(r rune) rune {
			if unsafeInLine(r) {
				return ' '
			}
			return r
		}, s)
	}
	return strings.TrimSpace(s)
}

func unsafeInLine(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// shorten truncates s to at most n characters as Truncate does, and
// drops the spaces its cut leaves before the "…": a cut line reads
// "deploy queued…", not "deploy queued …".
func shorten(s string, n int) string {
	t := Truncate(s, n)
	if t == s {
		return s
	}
	return strings.TrimRight(strings.TrimSuffix(t, "…"), " ") + "…"
}

// fits reports whether s fits a summary line.
func fits(s string) bool {
	return utf8.RuneCountInString(s) <= MaxSummaryLength
}

// firstFitting returns the first candidate that fits a summary line, or
// the last one (which NewDescription then cuts).
func firstFitting(candidates ...string) string {
	for _, c := range candidates {
		if fits(c) {
			return c
		}
	}
	return candidates[len(candidates)-1]
}

// excerpt is the first line of a person's text, cut at n characters: a
// lock message in a summary or a blocker.
func excerpt(s string, n int) string {
	line, _, _ := strings.Cut(s, "\n")
	return shorten(oneLine(line), n)
}

// describeScaled sets the event description: full when it fits a
// summary line, else the compact summary with details that list what
// happened.
func (c *commandContext) describeScaled(full, compact string, details []string) {
	if fits(oneLine(full)) {
		c.description = NewDescription(full).String()
		return
	}
	c.description = NewDescription(compact, details...).String()
}

// queuedDeploy is a queued version deployed because its last blocker
// went away: its "app version" label, environment and, if worth saying,
// why ("deploy window opened").
type queuedDeploy struct {
	label, env, note string
}

// queuedDeploys are the queued versions one event deployed, in order.
type queuedDeploys []queuedDeploy

func (q *queuedDeploys) add(label, env, note string) {
	*q = append(*q, queuedDeploy{label: label, env: env, note: note})
}

// names lists them all: "checkout 2 to development, search 1 to
// development".
func (q queuedDeploys) names() string {
	parts := make([]string, len(q))
	for i, d := range q {
		parts[i] = d.label + " to " + d.env
	}
	return strings.Join(parts, ", ")
}

// count says how many, and where unless implied names the only
// environment: "3,856 queued applications", "2 queued applications to
// development", "12 queued applications in 3 environments".
func (q queuedDeploys) count(implied string) string {
	s := countOf(len(q), "queued application")
	switch envs := q.environments(); {
	case len(envs) > 1:
		s += " in " + countOf(len(envs), "environment")
	case len(envs) == 1 && envs[0] != implied:
		s += " to " + envs[0]
	}
	return s
}

// environments lists the environments deployed to, in first-seen order.
func (q queuedDeploys) environments() []string {
	var envs []string
	seen := make(map[string]bool)
	for _, d := range q {
		if !seen[d.env] {
			seen[d.env] = true
			envs = append(envs, d.env)
		}
	}
	return envs
}

// details is one line per deployment: "Deploy queued checkout 2 to
// development (deploy window opened)".
func (q queuedDeploys) details() []string {
	lines := make([]string, len(q))
	for i, d := range q {
		lines[i] = "Deploy queued " + d.label + " to " + d.env
		if d.note != "" {
			lines[i] += " (" + d.note + ")"
		}
	}
	return lines
}

// labelGroups lists names grouped by a label, in first-seen order, and
// prints as "a, b (label1), c (label2)".
type labelGroups []labelGroup

type labelGroup struct {
	label string
	names []string
}

func (g *labelGroups) add(label, name string) {
	for i := range *g {
		if (*g)[i].label == label {
			(*g)[i].names = append((*g)[i].names, name)
			return
		}
	}
	*g = append(*g, labelGroup{label: label, names: []string{name}})
}

// len counts the names of every group.
func (g labelGroups) len() int {
	n := 0
	for _, lg := range g {
		n += len(lg.names)
	}
	return n
}

func (g labelGroups) String() string {
	parts := make([]string, len(g))
	for i, lg := range g {
		parts[i] = fmt.Sprintf("%s (%s)", strings.Join(lg.names, ", "), lg.label)
	}
	return strings.Join(parts, ", ")
}

// describeTime formats a time for event descriptions and messages.
func describeTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
