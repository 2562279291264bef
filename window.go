package railyard

import (
	"fmt"
	"time"

	"github.com/railyard-cd/railyard/internal/cron"
)

// DeployWindow allows or denies automatic deployments during a recurring
// period: from each time Schedule fires, for Duration, in TimeZone.
type DeployWindow struct {
	Kind     string `json:"kind"`
	Schedule string `json:"schedule"`
	Duration string `json:"duration"`
	TimeZone string `json:"timeZone,omitempty"`
}

// Deploy window kinds.
const (
	DeployWindowAllow = "allow"
	DeployWindowDeny  = "deny"
)

func (w DeployWindow) validate(field string) error {
	if w.Kind != DeployWindowAllow && w.Kind != DeployWindowDeny {
		return Errorf(EINVALID, "%s.kind %q is not valid: use \"allow\" or \"deny\"", field, Truncate(w.Kind, maxQuoted)).WithField(field + ".kind")
	}
	if err := validateSchedule(field, w.Schedule, w.TimeZone); err != nil {
		return err
	}
	d, err := time.ParseDuration(w.Duration)
	if err != nil || d <= 0 {
		return Errorf(EINVALID, "%s.duration %q is not a positive duration such as \"2h\" or \"90m\"", field, Truncate(w.Duration, maxQuoted)).WithField(field + ".duration")
	}
	return nil
}

// Deploy windows are evaluated on the wall clock of their time zone by
// internal/cron, whose rules for clock changes docs/promotion.md states
// for users. A window is open from each time its schedule fires for its
// Duration of real time (as Argo CD sync windows are), so it may cross
// midnight or overlap the next opening.

// windowSchedule is a deploy window ready for evaluation.
type windowSchedule struct {
	*cron.Schedule
	window   DeployWindow
	duration time.Duration
}

// parseDeployWindow prepares w; the error says which part is wrong.
func parseDeployWindow(w DeployWindow) (*windowSchedule, error) {
	if w.Kind != DeployWindowAllow && w.Kind != DeployWindowDeny {
		return nil, fmt.Errorf("kind %q is not allow or deny", w.Kind)
	}
	cs, err := cron.Parse(w.Schedule, w.TimeZone)
	if err != nil {
		return nil, err
	}
	d, err := time.ParseDuration(w.Duration)
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("duration %q is not a positive duration", w.Duration)
	}
	return &windowSchedule{Schedule: cs, window: w, duration: d}, nil
}

// openSince returns the latest opening of the window that is still open
// at t.
func (w *windowSchedule) openSince(t time.Time) (time.Time, bool) {
	return w.Latest(t, t.Add(-w.duration))
}

// boundary returns the first time after t at which the window may open or
// close: its next opening, or the end of the opening it is in.
func (w *windowSchedule) boundary(t time.Time) (time.Time, bool) {
	next, ok := w.Next(t)
	if since, open := w.openSince(t); open {
		if end := since.Add(w.duration); !ok || end.Before(next) {
			return end, true
		}
	}
	return next, ok
}

// WindowState is what an environment's deploy windows say at one time.
type WindowState struct {
	// Allowed is true when automation may deploy: inside an allow window
	// (or there are none) and outside every deny window.
	Allowed bool `json:"allowed"`
	// Blockers are the windows that hold automation back: every open deny
	// window, and one blocker for being outside every allow window.
	Blockers []Blocker `json:"blockers,omitempty"`
	// NextChange is when Allowed next flips; nil if it does not within a
	// year.
	NextChange *time.Time `json:"nextChange,omitempty"`
}

// windowHorizon and maxWindowSteps bound the search for the next change,
// so that a pathological configuration (a deny window of every minute
// that never closes) costs milliseconds, not a loop without end.
const (
	windowHorizon  = 366 * 24 * time.Hour
	maxWindowSteps = 2000
)

// EvaluateDeployWindows says whether windows allow automatic deployments
// at t, which windows block if not, and when that next changes. A window
// is open from each time its schedule fires, in its time zone (UTC if
// none), for its duration. An error means a window is invalid (config
// validation refuses such windows).
func EvaluateDeployWindows(windows []DeployWindow, t time.Time) (*WindowState, error) {
	ws := make([]*windowSchedule, len(windows))
	for i, w := range windows {
		s, err := parseDeployWindow(w)
		if err != nil {
			return nil, Errorf(EINVALID, "deployWindows[%d]: %v", i, err).WithField(fmt.Sprintf("deployWindows[%d]", i))
		}
		ws[i] = s
	}
	st := &WindowState{Allowed: windowsAllow(ws, t)}
	st.NextChange = nextWindowChange(ws, t, st.Allowed)
	if !st.Allowed {
		st.Blockers = windowBlockers(ws, t, st.NextChange)
	}
	return st, nil
}

// windowsAllow applies the rule: allowed inside some allow window (if any
// exist) and outside every deny window.
func windowsAllow(ws []*windowSchedule, t time.Time) bool {
	hasAllow, inAllow := false, false
	for _, w := range ws {
		_, open := w.openSince(t)
		switch w.window.Kind {
		case DeployWindowDeny:
			if open {
				return false
			}
		case DeployWindowAllow:
			hasAllow = true
			inAllow = inAllow || open
		}
	}
	return !hasAllow || inAllow
}

// nextWindowChange steps from boundary to boundary of all windows until
// the verdict differs from allowed.
func nextWindowChange(ws []*windowSchedule, t time.Time, allowed bool) *time.Time {
	cur, horizon := t, t.Add(windowHorizon)
	for range maxWindowSteps {
		var next time.Time
		for _, w := range ws {
			if b, ok := w.boundary(cur); ok && (next.IsZero() || b.Before(next)) {
				next = b
			}
		}
		if next.IsZero() || next.After(horizon) {
			return nil
		}
		if windowsAllow(ws, next) != allowed {
			return &next
		}
		cur = next
	}
	return nil
}

// windowBlockers describes what blocks at t: each open deny window, and
// the allow window that opens next if t is outside every allow window.
func windowBlockers(ws []*windowSchedule, t time.Time, until *time.Time) []Blocker {
	var blockers []Blocker
	var nextAllow *windowSchedule
	var nextAllowAt time.Time
	hasAllow, inAllow := false, false
	for _, w := range ws {
		since, open := w.openSince(t)
		if w.window.Kind == DeployWindowDeny {
			if open {
				blockers = append(blockers, windowBlocker(w.window, until,
					fmt.Sprintf("inside %s, open since %s", windowLabel(w.window), describeTime(since))))
			}
			continue
		}
		hasAllow, inAllow = true, inAllow || open
		if n, ok := w.Next(t); ok && (nextAllowAt.IsZero() || n.Before(nextAllowAt)) {
			nextAllow, nextAllowAt = w, n
		}
		if nextAllow == nil {
			nextAllow = w // an allow window that never opens again
		}
	}
	if !hasAllow || inAllow {
		return blockers
	}
	return append(blockers, windowBlocker(nextAllow.window, until,
		"outside every allow window; next: "+windowLabel(nextAllow.window)))
}

// windowBlocker makes a blocker of a window; until is when automation is
// allowed again, if known.
func windowBlocker(w DeployWindow, until *time.Time, what string) Blocker {
	win := w
	desc := "deploy window: " + what
	if until != nil {
		desc += "; deploys allowed again at " + describeTime(*until)
	}
	b := Blocker{Kind: BlockerWindow, Window: &win, Description: desc}
	if until != nil {
		u := *until
		b.Until = &u
	}
	return b
}

// windowLabel names a window for people: `allow window "0 9 * * 1-5" for 8h (Europe/Berlin)`.
func windowLabel(w DeployWindow) string {
	zone := w.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	// Cut, so that a blocker stays one short line: cron fields and
	// durations may be written out at any length.
	return fmt.Sprintf("%s window %q for %s (%s)", w.Kind, shorten(w.Schedule, maxScheduleLabel), shorten(w.Duration, maxScheduleLabel), zone)
}
