package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/railyard-cd/railyard"
)

// Blockers are the locks and closed deploy windows that hold a version
// back. The API describes each in a sentence; the CLI names them briefly.

// blockerSummary names blockers briefly, for one-line results:
// `environment lock "freeze"`, `deploy window deny "0 12 * * *" 1h UTC`.
func blockerSummary(blockers []railyard.Blocker) string {
	parts := make([]string, 0, len(blockers))
	for _, b := range blockers {
		switch {
		case b.Lock != nil:
			parts = append(parts, fmt.Sprintf("%s lock %q", b.Kind, b.Lock.ID))
		case b.Window != nil:
			w := b
			w.Until = nil // when it was blocked until is stale in a result
			parts = append(parts, windowShort(w, time.Time{}))
		default:
			parts = append(parts, b.Description)
		}
	}
	return joinOrDash(parts)
}

// blockerShort names a blocker with whose lock it is, for tables:
// `team lock "audit" by Bob`, or a window as windowShort does relative to now.
func blockerShort(b railyard.Blocker, now time.Time) string {
	switch {
	case b.Lock != nil:
		return fmt.Sprintf("%s lock %q by %s", b.Kind, b.Lock.ID, orDash(b.Lock.CreatedBy.Name))
	case b.Window != nil:
		return windowShort(b, now)
	}
	return b.Description
}

// windowShort names a window blocker: `deploy window deny "0 9 * * 1-5" 8h
// Europe/Berlin (until 17:00)` for an open deny window, `… allow … closed
// (until 09:00)` when outside every allow window. The time it blocks until
// is on the window zone's clock: the time of day alone when that is on
// now's date there, else with the date; the date always when now is zero.
func windowShort(b railyard.Blocker, now time.Time) string {
	w := b.Window
	zone := w.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	s := fmt.Sprintf("deploy window %s %q %s %s", w.Kind, w.Schedule, w.Duration, zone)
	if w.Kind == railyard.DeployWindowAllow {
		s += " closed"
	}
	if b.Until != nil {
		s += " (until " + clockTime(*b.Until, zone, now) + ")"
	}
	return s
}

// clockTime formats t on the clock of zone: "17:00" when t falls on now's
// date there, "2025-11-24 09:00" otherwise (with seconds when t has any). A zone the system does not
// know is shown in UTC, saying so.
func clockTime(t time.Time, zone string, now time.Time) string {
	loc, err := time.LoadLocation(zone)
	suffix := ""
	if err != nil {
		loc, suffix = time.UTC, " UTC"
	}
	lt, ln := t.In(loc), now.In(loc)
	layout := "15:04"
	if lt.Second() != 0 {
		layout = "15:04:05" // a window of 90s ends at seconds
	}
	if now.IsZero() || lt.Year() != ln.Year() || lt.YearDay() != ln.YearDay() {
		layout = "2006-01-02 " + layout
	}
	return lt.Format(layout) + suffix
}

// hasWindow reports whether a deploy window is among the blockers.
func hasWindow(blockers []railyard.Blocker) bool {
	for _, b := range blockers {
		if b.Window != nil {
			return true
		}
	}
	return false
}

// whenDeployed says when Railyard deploys a queued version.
func whenDeployed(blockers []railyard.Blocker) string {
	if !hasWindow(blockers) {
		return "it is deployed when the last lock is gone"
	}
	s := "it is deployed when nothing blocks it any more"
	if until := windowUntil(blockers); until != nil {
		s += " (the deploy window allows it at " + formatTime(*until) + " UTC)"
	}
	return s
}

// windowUntil returns when the deploy windows among the blockers allow
// deploys again, if known.
func windowUntil(blockers []railyard.Blocker) *time.Time {
	var until *time.Time
	for _, b := range blockers {
		if b.Window != nil && b.Until != nil && (until == nil || b.Until.After(*until)) {
			until = b.Until
		}
	}
	return until
}

// blockedError turns a manual deploy (or rollback) refused by locks or
// deploy windows into an error that lists them one per line and says how
// to go on: what to remove or wait for, or the command line to run again
// (retry) with another --lock-behavior.
func blockedError(err error, message, retry string) error {
	e := railyard.AsError(err)
	if e == nil || e.Code != railyard.ELOCKED || len(e.Blockers) == 0 {
		return err
	}
	details := make([]string, len(e.Blockers))
	locks := false
	for i, b := range e.Blockers {
		details[i] = b.Description
		locks = locks || b.Window == nil
	}
	var ways []string
	if locks {
		ways = append(ways, "remove the locks with `railyard unlock …`")
	}
	when := "unlocked"
	if hasWindow(e.Blockers) {
		wait := "wait for the deploy window"
		if until := windowUntil(e.Blockers); until != nil {
			wait += " (deploys are allowed again at " + formatTime(*until) + " UTC)"
		}
		ways = append(ways, wait)
		when = "nothing blocks it any more"
		if locks {
			when = "unlocked and the window allows it"
		}
	}
	return &hintedError{
		err:     err,
		message: message + ": it is blocked by",
		details: details,
		hint: fmt.Sprintf("%s, or run `%s` again with --lock-behavior queue (deploy when %s) or --lock-behavior ignore (deploy now, overriding them)",
			strings.Join(ways, " and "), retry, when),
	}
}
