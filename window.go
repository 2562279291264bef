package railyard

import (
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Deploy windows are evaluated on the wall clock of their time zone, not
// with cron.Schedule.Next: robfig/cron skips a time that falls into the
// hour clocks jump over (a deny window at 02:30 would vanish on the night
// of the spring change) and fires twice at a time that occurs twice in
// autumn. The rules here, which docs/promotion.md states for users:
//
//   - A window opens at every wall-clock minute of its zone that the cron
//     expression matches, and stays open for Duration of real time (as
//     Argo CD sync windows do), so it may cross midnight or overlap the
//     next opening.
//   - A wall-clock time that occurs twice (clocks go back) opens the window
//     once, at its first occurrence.
//   - A wall-clock time that does not exist (clocks go forward) opens the
//     window at the moment of the jump (02:30 → 03:00 in Europe/Berlin).
//
// Both rules keep the fire times in the same order as the wall-clock
// times, which is what lets the searches below scan the calendar.

// cronSchedule is a cron expression evaluated on the wall clock of loc.
type cronSchedule struct {
	spec *cron.SpecSchedule
	loc  *time.Location
}

// starBit marks a cron field given as "*" (robfig/cron's convention); it
// decides how day-of-month and day-of-week combine.
const starBit = 1 << 63

// dstMargin is how far a search starts beyond the wall-clock time it is
// about, so that fire times on the other side of a clock change are not
// missed: a change shifts the wall clock by at most 2 h in any zone in use,
// and a fire in a skipped hour resolves to the end of it.
const dstMargin = 4 * time.Hour

// scheduleHorizonDays bounds every search for the next fire time: a
// schedule that never fires within five years (such as 30 February) is
// treated as never firing, like robfig/cron does.
const scheduleHorizonDays = 5*366 + 1

// parseCronSchedule parses a schedule of a deploy window or scheduled train.
// Only expressions that name wall-clock times are accepted: "@every" has no
// anchor in time, and a "TZ=" prefix would contradict the timeZone field.
func parseCronSchedule(expr, zone string) (*cronSchedule, error) {
	trimmed := strings.TrimSpace(expr)
	if strings.HasPrefix(trimmed, "TZ=") || strings.HasPrefix(trimmed, "CRON_TZ=") {
		return nil, errors.New("a TZ= prefix is not supported: set timeZone instead")
	}
	s, err := cronParser.Parse(trimmed)
	if err != nil {
		return nil, err
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, errors.New("@every is not supported: use five fields or @hourly, @daily, @weekly, @monthly, @yearly")
	}
	loc, err := loadZone(zone)
	if err != nil {
		return nil, err
	}
	return &cronSchedule{spec: spec, loc: loc}, nil
}

// loadZone returns the IANA time zone, UTC for "".
func loadZone(zone string) (*time.Location, error) {
	if zone == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(zone)
}

// wallClock returns t's wall-clock reading in loc as a UTC time, so that
// calendar arithmetic on it has no clock changes.
func wallClock(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// dayMatches reports whether the schedule fires on the calendar day of
// wall: like cron, a day-of-month and a day-of-week restriction both given
// (neither "*") match when either does.
func (s *cronSchedule) dayMatches(wall time.Time) bool {
	if s.spec.Month&(1<<uint(wall.Month())) == 0 {
		return false
	}
	dom := s.spec.Dom&(1<<uint(wall.Day())) != 0
	dow := s.spec.Dow&(1<<uint(wall.Weekday())) != 0
	if s.spec.Dom&starBit != 0 || s.spec.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}

// resolve turns a wall-clock minute into the instant the schedule fires
// at: the first occurrence of an ambiguous time, the moment of the jump
// for a time that does not exist. (time.Date leaves both choices open.)
func (s *cronSchedule) resolve(wall time.Time) time.Time {
	if s.loc == time.UTC {
		return wall
	}
	guess := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), 0, 0, s.loc)
	start, end := guess.ZoneBounds()
	probes := []time.Time{guess}
	if !start.IsZero() {
		probes = append(probes, start.Add(-time.Nanosecond))
	}
	if !end.IsZero() {
		probes = append(probes, end)
	}
	var best time.Time
	for _, p := range probes {
		_, off := p.Zone()
		c := wall.Add(-time.Duration(off) * time.Second)
		if _, o := c.In(s.loc).Zone(); o == off && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	if !best.IsZero() {
		return best
	}
	for _, tr := range []time.Time{start, end} {
		if tr.IsZero() {
			continue
		}
		_, before := tr.Add(-time.Nanosecond).Zone()
		_, after := tr.Zone()
		lo := tr.UTC().Add(time.Duration(before) * time.Second)
		hi := tr.UTC().Add(time.Duration(after) * time.Second)
		if !wall.Before(lo) && wall.Before(hi) {
			return tr.UTC()
		}
	}
	return guess.UTC()
}

// forward yields the fire instants from the wall-clock minute of from on,
// in order, each once, for at most days calendar days.
func (s *cronSchedule) forward(from time.Time, days int) iter.Seq[time.Time] {
	return func(yield func(time.Time) bool) {
		day := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
		var last time.Time
		for i := 0; i < days; i++ {
			d := day.AddDate(0, 0, i)
			if !s.dayMatches(d) {
				continue
			}
			h0 := 0
			if i == 0 {
				h0 = from.Hour()
			}
			for h := h0; h < 24; h++ {
				if s.spec.Hour&(1<<uint(h)) == 0 {
					continue
				}
				m0 := 0
				if i == 0 && h == from.Hour() {
					m0 = from.Minute()
				}
				for m := m0; m < 60; m++ {
					if s.spec.Minute&(1<<uint(m)) == 0 {
						continue
					}
					t := s.resolve(d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute))
					if t.Equal(last) {
						continue
					}
					last = t
					if !yield(t) {
						return
					}
				}
			}
		}
	}
}

// backward yields the fire instants from the wall-clock minute of from
// back to the calendar day of until, latest first, each once.
func (s *cronSchedule) backward(from, until time.Time) iter.Seq[time.Time] {
	return func(yield func(time.Time) bool) {
		day := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
		var last time.Time
		stop := time.Date(until.Year(), until.Month(), until.Day(), 0, 0, 0, 0, time.UTC)
		for d := day; !d.Before(stop); d = d.AddDate(0, 0, -1) {
			if !s.dayMatches(d) {
				continue
			}
			h0 := 23
			if d.Equal(day) {
				h0 = from.Hour()
			}
			for h := h0; h >= 0; h-- {
				if s.spec.Hour&(1<<uint(h)) == 0 {
					continue
				}
				m0 := 59
				if d.Equal(day) && h == from.Hour() {
					m0 = from.Minute()
				}
				for m := m0; m >= 0; m-- {
					if s.spec.Minute&(1<<uint(m)) == 0 {
						continue
					}
					t := s.resolve(d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute))
					if t.Equal(last) {
						continue
					}
					last = t
					if !yield(t) {
						return
					}
				}
			}
		}
	}
}

// margin is how far a search starts before or after the wall-clock time
// it is about; UTC needs none.
func (s *cronSchedule) margin() time.Duration {
	if s.loc == time.UTC {
		return 0
	}
	return dstMargin
}

// next returns the first fire time after t; false if there is none within
// the horizon.
func (s *cronSchedule) next(t time.Time) (time.Time, bool) {
	for f := range s.forward(wallClock(t.Add(-s.margin()), s.loc), scheduleHorizonDays) {
		if f.After(t) {
			return f, true
		}
	}
	return time.Time{}, false
}

// latest returns the latest fire time f with after < f <= t; false if
// there is none. The search never looks further back than after.
func (s *cronSchedule) latest(t, after time.Time) (time.Time, bool) {
	from := wallClock(t.Add(s.margin()), s.loc)
	until := wallClock(after.Add(-s.margin()), s.loc)
	for f := range s.backward(from, until) {
		if f.After(t) {
			continue
		}
		if !f.After(after) {
			break
		}
		return f, true
	}
	return time.Time{}, false
}

// windowSchedule is a deploy window ready for evaluation.
type windowSchedule struct {
	cronSchedule
	window   DeployWindow
	duration time.Duration
}

// parseDeployWindow prepares w; the error says which part is wrong.
func parseDeployWindow(w DeployWindow) (*windowSchedule, error) {
	if w.Kind != DeployWindowAllow && w.Kind != DeployWindowDeny {
		return nil, fmt.Errorf("kind %q is not allow or deny", w.Kind)
	}
	cs, err := parseCronSchedule(w.Schedule, w.TimeZone)
	if err != nil {
		return nil, err
	}
	d, err := time.ParseDuration(w.Duration)
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("duration %q is not a positive duration", w.Duration)
	}
	return &windowSchedule{cronSchedule: *cs, window: w, duration: d}, nil
}

// openSince returns the latest opening of the window that is still open
// at t.
func (w *windowSchedule) openSince(t time.Time) (time.Time, bool) {
	return w.latest(t, t.Add(-w.duration))
}

// boundary returns the first time after t at which the window may open or
// close: its next opening, or the end of the opening it is in.
func (w *windowSchedule) boundary(t time.Time) (time.Time, bool) {
	next, ok := w.next(t)
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
		if n, ok := w.next(t); ok && (nextAllowAt.IsZero() || n.Before(nextAllowAt)) {
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
	return fmt.Sprintf("%s window %q for %s (%s)", w.Kind, cutRunes(w.Schedule, maxScheduleLabel), cutRunes(w.Duration, maxScheduleLabel), zone)
}
