package cron

import (
	"fmt"
	"math/rand"
	"testing"
	"time"
)

// randomCron returns a random five-field cron expression with lists,
// ranges and steps in every field.
func randomCron(r *rand.Rand) string {
	field := func(min, max int) string {
		switch r.Intn(5) {
		case 0:
			return "*"
		case 1:
			return fmt.Sprint(min + r.Intn(max-min+1))
		case 2:
			a := min + r.Intn(max-min+1)
			b := a + r.Intn(max-a+1)
			return fmt.Sprintf("%d-%d", a, b)
		case 3:
			return fmt.Sprintf("*/%d", 1+r.Intn(max-min))
		default:
			return fmt.Sprintf("%d,%d", min+r.Intn(max-min+1), min+r.Intn(max-min+1))
		}
	}
	return fmt.Sprintf("%s %s %s %s %s", field(0, 59), field(0, 23), field(1, 31), field(1, 12), field(0, 6))
}

// TestCronMatchesRobfigInUTC checks the wall-clock search against
// robfig/cron where both must agree: in UTC, which has no clock changes.
func TestCronMatchesRobfigInUTC(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 3000; i++ {
		expr := randomCron(r)
		ours, err := Parse(expr, "")
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		theirs, _ := parser.Parse(expr)
		at := start.Add(time.Duration(r.Int63n(int64(3 * 365 * 24 * time.Hour)))).Truncate(time.Second)
		want := theirs.Next(at)
		got, ok := ours.Next(at)
		if want.IsZero() != !ok || ok && !got.Equal(want) {
			t.Fatalf("%s next after %v: got %v (%v), want %v", expr, at, got, ok, want)
		}
		if !ok {
			continue
		}
		// latest(t) is the fire f <= t whose successor is after t.
		probe := got.Add(time.Duration(r.Int63n(int64(48 * time.Hour))))
		f, ok := ours.Latest(probe, probe.Add(-400*24*time.Hour))
		if !ok || f.After(probe) || !theirs.Next(f).After(probe) || !theirs.Next(f.Add(-time.Second)).Equal(f) {
			t.Fatalf("%s latest at or before %v: got %v (%v), next after it %v", expr, probe, f, ok, theirs.Next(f))
		}
	}
}

// TestCronFiresOncePerWallClockTime walks a year of Europe/Berlin minute by
// minute for an every-15-minutes schedule: every fire time is a distinct,
// increasing instant, a repeated hour fires once, and a skipped hour fires
// once at the jump.
func TestCronFiresOncePerWallClockTime(t *testing.T) {
	s, err := Parse("*/15 * * * *", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var prev time.Time
	n := 0
	for f := range s.forward(wallClock(from, s.loc), 366) {
		if !f.After(prev) {
			t.Fatalf("fire %v is not after %v", f, prev)
		}
		prev = f
		n++
	}
	// 366 days × 96 wall-clock times, less the 4 before 01:00 CET on the
	// first day (the walk starts at 00:00 UTC), less 4 in spring: 02:00
	// to 02:45 do not exist and fire at the jump, together with 03:00.
	// The repeated hour in autumn adds nothing: each time fires once.
	assertEqual(t, "fires in 366 days", n, 366*96-4-4)
}

func assertEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}
