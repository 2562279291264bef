package ui

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// templateFuncs are the functions the templates may call.
func templateFuncs(a *assets) template.FuncMap {
	return template.FuncMap{
		"asset":     a.url,
		"ago":       ago,
		"utc":       utcLabel,
		"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"short":     shortCommit,
		"firstLine": firstLine,
		"describe":  railyard.ParseDescription,
		"query":     queryEscape,
		"lockKind":  lockKindLabel,
		"kindClass": lockKindClass,
		"actor":     func(a railyard.Actor) string { return a.Name },
		"deref":     func(t *time.Time) time.Time { return *t },
		"add":       func(a, b int) int { return a + b },
	}
}

// ago says how long before now t was, in the coarse words people scan:
// "just now", "4 min ago", "3 h ago", "2 days ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in " + humanDuration(-d)
	case d < 45*time.Second:
		return "just now"
	}
	return humanDuration(d) + " ago"
}

// humanDuration rounds d to its largest unit.
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + " h"
	}
	return strconv.Itoa(int(d.Hours()/24)) + " days"
}

// utcLabel formats a time for a tooltip or a table: exact, in UTC.
func utcLabel(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// shortCommit abbreviates a source commit id to 8 characters.
func shortCommit(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// firstLine returns the first line of s, cut to 120 characters.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return railyard.Truncate(s, 120)
}

// queryEscape escapes a query parameter value.
func queryEscape(s string) string {
	return url.QueryEscape(s)
}

// lockKindWords are how the UI shows each kind of lock and blocker: its
// name, the short text beside its icon in a cell, and the CSS class of
// that icon. A kind not listed shows as itself, with the window's class.
var lockKindWords = map[railyard.LockKind]struct{ label, short, class string }{
	railyard.LockEnvironment: {"environment lock", "env lock", "lk-env"},
	railyard.LockApplication: {"application lock", "app lock", "lk-app"},
	railyard.LockTeam:        {"team lock", "team lock", "lk-team"},
	railyard.LockGroup:       {"group lock", string(railyard.LockGroup), "lk-win"},
	railyard.BlockerWindow:   {"deploy window", string(railyard.BlockerWindow), "lk-win"},
}

// lockKindLabel names a lock kind in the words of the UI.
func lockKindLabel(k railyard.LockKind) string {
	if w, ok := lockKindWords[k]; ok {
		return w.label
	}
	return string(k)
}

// lockKindClass is the CSS class of a lock marker.
func lockKindClass(k railyard.LockKind) string {
	if w, ok := lockKindWords[k]; ok {
		return w.class
	}
	return "lk-win"
}

// shortLockLabel is the text beside a lock icon in a cell.
func shortLockLabel(k railyard.LockKind) string {
	if w, ok := lockKindWords[k]; ok {
		return w.short
	}
	return string(k)
}

// localPath returns p if it is a plain path on this site, else def, so
// that a redirect to it cannot lead to another site. Browsers are
// lenient: they drop tabs and newlines from a URL ("/\t/evil.example" is
// "//evil.example", another host), read "\" as "/", and ignore leading
// spaces. So p must start with exactly one "/", and consist of printable
// ASCII without "\" (anything else is percent-encoded in a real path);
// then it cannot hold a scheme or a host.
func localPath(p, def string) string {
	if len(p) == 0 || p[0] != '/' || len(p) > 1 && p[1] == '/' {
		return def
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return def
		}
	}
	if u, err := url.Parse(p); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return def
	}
	return p
}
