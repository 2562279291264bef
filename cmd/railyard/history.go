package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/spf13/cobra"
)

// defaultHistoryLimit is how many events history shows at once.
const defaultHistoryLimit = 50

// historyOptions are the flags of `railyard history`.
type historyOptions struct {
	clientOptions
	app    string
	env    string
	actor  string
	kind   string
	since  string
	until  string
	commit string
	limit  int
	before int64
}

// eventPage is one page of events as -o json/yaml prints it: Next, if not
// zero, is the --before of the next page.
type eventPage struct {
	Events []*railyard.Event `json:"events"`
	Next   int64             `json:"next,omitempty"`
}

func (m *Main) newHistoryCommand() *cobra.Command {
	o := &historyOptions{}
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Show the audit log: who changed what, when",
		Long: `Show the audit log, newest first: every change is one event with its time,
actor, kind and a description of what it did.

--since and --until take an RFC 3339 time, a date (2025-11-21, UTC) or an
age such as 90m, 24h or 7d.`,
		Example: `  railyard history --app checkout
  railyard history --env production --since 7d
  railyard history --commit 4f1c2e9`,
		Args: noArgs,
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, _ []string) error {
			return m.history(ctx, o)
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&o.app, "app", "", "only events about this application")
	fs.StringVar(&o.env, "env", "", "only events about this environment")
	fs.StringVar(&o.actor, "actor", "", "only events by this actor (name or e-mail)")
	fs.StringVar(&o.kind, "kind", "", "only events of this kind, such as deploy, release.create or release-train")
	fs.StringVar(&o.since, "since", "", "only events at or after this time")
	fs.StringVar(&o.until, "until", "", "only events before this time")
	fs.StringVar(&o.commit, "commit", "", "only events that released, deployed or queued this source commit (7 to 40 hex characters)")
	fs.IntVar(&o.limit, "limit", defaultHistoryLimit, "at most this many events")
	fs.Int64Var(&o.before, "before", 0, "only events with an id below this one (the next page)")
	_ = cmd.RegisterFlagCompletionFunc("app", m.completeApps(&o.clientOptions))
	_ = cmd.RegisterFlagCompletionFunc("env", m.completeEnvs(&o.clientOptions))
	_ = cmd.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions(railyard.EventKinds(), cobra.ShellCompDirectiveNoFileComp))
	return newClientCommand(cmd, &o.clientOptions)
}

// filter turns the flags into an event filter.
func (o *historyOptions) filter(now time.Time) (railyard.EventFilter, error) {
	f := railyard.EventFilter{Application: o.app, Environment: o.env, Actor: o.actor, Kind: o.kind,
		SourceCommitID: o.commit, Limit: o.limit, BeforeID: o.before}
	if o.limit <= 0 {
		return f, usageErrorf("--limit must be positive, got %d", o.limit)
	}
	if o.before < 0 {
		return f, usageErrorf("--before must be a positive event id, got %d", o.before)
	}
	if o.kind != "" && !slices.Contains(railyard.EventKinds(), o.kind) {
		return f, usageErrorf("--kind %q is not an event kind: use one of %s", o.kind, strings.Join(railyard.EventKinds(), ", "))
	}
	var err error
	if f.Since, err = parseTimeFlag("--since", o.since, now); err != nil {
		return f, err
	}
	if f.Until, err = parseTimeFlag("--until", o.until, now); err != nil {
		return f, err
	}
	return f, nil
}

// parseTimeFlag reads an RFC 3339 time, a date (midnight UTC) or an age
// before now ("90m", "24h", "7d"); "" is no time.
func parseTimeFlag(flag, value string, now time.Time) (*time.Time, error) {
	if value == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, value); err == nil {
		return &t, nil
	}
	if t, err := time.Parse(time.DateOnly, value); err == nil {
		return &t, nil
	}
	d, err := time.ParseDuration(value)
	if days, ok := strings.CutSuffix(value, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	}
	if err != nil || d <= 0 {
		return nil, usageErrorf("%s %q is not a time: use RFC 3339 (2025-11-21T08:00:00Z), a date (2025-11-21) or an age (90m, 24h, 7d)", flag, value)
	}
	t := now.Add(-d).UTC().Truncate(time.Second)
	return &t, nil
}

// history lists the matching events.
func (m *Main) history(ctx context.Context, o *historyOptions) error {
	filter, err := o.filter(m.Now())
	if err != nil {
		return err
	}
	c, err := m.connect(ctx, &o.clientOptions)
	if err != nil {
		return err
	}
	events, next, err := c.FindEvents(ctx, filter)
	if err != nil {
		return err
	}
	page := eventPage{Events: events, Next: next}
	if err := m.printer(&o.clientOptions).print(page, func(w io.Writer) { writeEventsTable(w, events) }); err != nil {
		return err
	}
	if next != 0 && o.output == formatTable {
		fmt.Fprintf(m.Stderr, "More events: run again with --before %d\n", next)
	}
	return nil
}

// writeEventsTable writes one row per event.
func writeEventsTable(w io.Writer, events []*railyard.Event) {
	if len(events) == 0 {
		fmt.Fprintln(w, "No events.")
		return
	}
	row(w, "ID", "TIME (UTC)", "ACTOR", "KIND", "DESCRIPTION")
	for _, e := range events {
		row(w, fmt.Sprint(e.ID), formatTime(e.Time), orDash(e.Actor.Name), e.Kind, e.Summary())
	}
}
