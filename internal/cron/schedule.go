// Package cron evaluates cron expressions on the wall clock of an IANA
// time zone: the calendar of deploy windows and scheduled release trains.
// It knows nothing of Railyard.
//
// Schedules are evaluated on the wall clock of their time zone, not with
// robfig/cron's Schedule.Next: robfig/cron skips a time that falls into
// the hour clocks jump over (a deny window at 02:30 would vanish on the
// night of the spring change) and fires twice at a time that occurs twice
// in autumn. The rules here, which docs/promotion.md states for users:
//
//   - A schedule fires at every wall-clock minute of its zone that the
//     cron expression matches. (A deploy window then stays open for its
//     duration of real time, as Argo CD sync windows do, so it may cross
//     midnight or overlap the next opening.)
//   - A wall-clock time that occurs twice (clocks go back) fires once, at
//     its first occurrence.
//   - A wall-clock time that does not exist (clocks go forward) fires at
//     the moment of the jump (02:30 → 03:00 in Europe/Berlin).
//
// Both rules keep the fire times in the same order as the wall-clock
// times, which is what lets the searches below scan the calendar.
package cron

import (
	"errors"
	"iter"
	"strings"
	"time"

	robfig "github.com/robfig/cron/v3"
)

// parser parses standard five-field cron expressions and descriptors
// such as @daily.
var parser = robfig.NewParser(robfig.Minute | robfig.Hour | robfig.Dom | robfig.Month | robfig.Dow | robfig.Descriptor)

// CheckSyntax checks expr as robfig/cron parses it, which is how Argo CD
// reads the schedule of a sync window: five fields, a descriptor such as
// @daily, also "@every 1h" and a "TZ=" prefix.
func CheckSyntax(expr string) error {
	_, err := parser.Parse(expr)
	return err
}

// Schedule is a cron expression evaluated on the wall clock of a time
// zone. It is immutable and safe for concurrent use.
type Schedule struct {
	spec *robfig.SpecSchedule
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

// Parse parses a standard five-field cron expression, or a descriptor
// such as @daily, on the wall clock of zone (an IANA name; UTC if "").
// Only expressions that name wall-clock times are accepted: "@every" has
// no anchor in time, and a "TZ=" prefix would contradict the zone.
func Parse(expr, zone string) (*Schedule, error) {
	trimmed := strings.TrimSpace(expr)
	if strings.HasPrefix(trimmed, "TZ=") || strings.HasPrefix(trimmed, "CRON_TZ=") {
		return nil, errors.New("a TZ= prefix is not supported: set timeZone instead")
	}
	s, err := parser.Parse(trimmed)
	if err != nil {
		return nil, err
	}
	spec, ok := s.(*robfig.SpecSchedule)
	if !ok {
		return nil, errors.New("@every is not supported: use five fields or @hourly, @daily, @weekly, @monthly, @yearly")
	}
	loc, err := loadZone(zone)
	if err != nil {
		return nil, err
	}
	return &Schedule{spec: spec, loc: loc}, nil
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
func (s *Schedule) dayMatches(wall time.Time) bool {
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
func (s *Schedule) resolve(wall time.Time) time.Time {
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
func (s *Schedule) forward(from time.Time, days int) iter.Seq[time.Time] {
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
func (s *Schedule) backward(from, until time.Time) iter.Seq[time.Time] {
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
func (s *Schedule) margin() time.Duration {
	if s.loc == time.UTC {
		return 0
	}
	return dstMargin
}

// Next returns the first fire time after t; false if there is none within
// five years.
func (s *Schedule) Next(t time.Time) (time.Time, bool) {
	for f := range s.forward(wallClock(t.Add(-s.margin()), s.loc), scheduleHorizonDays) {
		if f.After(t) {
			return f, true
		}
	}
	return time.Time{}, false
}

// Latest returns the latest fire time f with after < f <= t; false if
// there is none. The search never looks further back than after.
func (s *Schedule) Latest(t, after time.Time) (time.Time, bool) {
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
