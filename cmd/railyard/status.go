package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/railyard-cd/railyard"
	"github.com/spf13/cobra"
)

// statusOptions are the flags of `railyard status`.
type statusOptions struct {
	clientOptions
}

func (m *Main) newStatusCommand() *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [app]",
		Short: "Show what runs where",
		Long: `Show what runs where. With an application: for every environment, the version
running there (with its source commit, author and message), who deployed it
and when, the version queued there and the locks that hold it back. Without
one: every application in every environment, and how far the Git export
lags (the table only; -o json prints the overview).`,
		Example: `  railyard status checkout
  railyard status
  railyard status checkout -o json`,
		Args:              rangeArgs(0, "app"),
		ValidArgsFunction: m.completeApps(&o.clientOptions),
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return m.overview(ctx, o)
			}
			return m.status(ctx, o, args[0])
		}),
	}
	return newClientCommand(cmd, &o.clientOptions)
}

// status shows one application in every environment.
func (m *Main) status(ctx context.Context, o *statusOptions, app string) error {
	c, err := m.connect(ctx, &o.clientOptions)
	if err != nil {
		return err
	}
	detail, err := c.FindApplication(ctx, app)
	if err != nil {
		return err
	}
	envs, err := c.FindEnvironments(ctx)
	if err != nil {
		return err
	}
	return m.printer(&o.clientOptions).print(detail, func(w io.Writer) { writeStatusTable(w, detail, envs) })
}

// overview shows every application in every environment.
func (m *Main) overview(ctx context.Context, o *statusOptions) error {
	c, err := m.connect(ctx, &o.clientOptions)
	if err != nil {
		return err
	}
	ov, err := c.Overview(ctx)
	if err != nil {
		return err
	}
	export, err := c.ExportStatus(ctx)
	if err != nil {
		return err
	}
	return m.printer(&o.clientOptions).print(ov, func(w io.Writer) {
		writeOverviewTable(w, ov)
		fmt.Fprintf(w, "\n%s\n", describeExport(export))
	})
}

// describeExport says in one line how far the Git export lags.
func describeExport(st *railyard.ExportStatus) string {
	if !st.Enabled {
		return "Git export: disabled"
	}
	s := fmt.Sprintf("Git export to %s (%s): ", st.Remote, st.Branch)
	if st.PendingEvents == 0 {
		s += fmt.Sprintf("up to date (event %d)", st.LastExportedEventID)
	} else {
		s += fmt.Sprintf("%d events pending, the oldest for %.1fs", st.PendingEvents, st.OldestPendingSeconds)
	}
	if st.LastPushAt != nil {
		s += ", last push " + st.LastPushAt.UTC().Format("2006-01-02 15:04:05") + " UTC"
	}
	if st.LastError != "" {
		s += "\nLast error: " + st.LastError
	}
	return s
}

// environmentOrder returns the environment names of envs in the API's
// order, followed by any others of names, sorted.
func environmentOrder[V any](envs []*railyard.Environment, names map[string]V) []string {
	order := make([]string, 0, len(names))
	seen := make(map[string]bool, len(envs))
	for _, e := range envs {
		if _, ok := names[e.Name]; ok {
			order = append(order, e.Name)
			seen[e.Name] = true
		}
	}
	var rest []string
	for name := range names {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	return append(order, rest...)
}

// writeStatusTable writes an application's state, one row per environment.
func writeStatusTable(w io.Writer, d *railyard.ApplicationDetail, envs []*railyard.Environment) {
	header := "Application " + d.Name
	if d.Team != "" {
		header += ", team " + d.Team
	}
	fmt.Fprintf(w, "%s\n\n", header)
	releases := make(map[int64]*railyard.Release, len(d.Releases))
	for _, r := range d.Releases {
		releases[r.Version] = r
	}
	row(w, "ENVIRONMENT", "VERSION", "DEPLOYED (UTC)", "QUEUED", "LOCKS", "SOURCE")
	for _, name := range environmentOrder(envs, d.Environments) {
		ae := d.Environments[name]
		version, deployed, source := "-", "-", "-"
		if v := ae.Version; v != nil {
			rel := releases[*v]
			version = releaseCell(*v, rel)
			source = sourceCell(rel)
		}
		if ae.DeployedAt != nil {
			deployed = formatTime(*ae.DeployedAt)
			if ae.DeployedBy != nil {
				deployed += " by " + ae.DeployedBy.Name
			}
		}
		queued := "-"
		if q := ae.QueuedVersion; q != nil {
			queued = releaseCell(*q, releases[*q])
		}
		row(w, name, version, deployed, queued, lockIDs(ae.Locks), source)
	}
}

// releaseCell names a version with its display version, if the release is known.
func releaseCell(v int64, rel *railyard.Release) string {
	if rel == nil {
		return railyard.VersionLabel(v, "")
	}
	return railyard.VersionLabel(v, rel.DisplayVersion)
}

// sourceCell says where a release comes from: "4f1c2e9 Jane Doe: Fix rounding".
func sourceCell(rel *railyard.Release) string {
	if rel == nil {
		return "-"
	}
	var parts []string
	if rel.SourceCommitID != "" {
		parts = append(parts, rel.SourceCommitID[:min(7, len(rel.SourceCommitID))])
	}
	msg := summary(rel.SourceMessage, 50)
	switch {
	case rel.SourceAuthor != "" && msg != "":
		parts = append(parts, rel.SourceAuthor+": "+msg)
	case rel.SourceAuthor != "":
		parts = append(parts, rel.SourceAuthor)
	case msg != "":
		parts = append(parts, msg)
	}
	if rel.Undeploy {
		parts = append(parts, "(undeploy)")
	}
	return orDash(strings.Join(parts, " "))
}

// lockIDs lists the ids of locks, "-" if there are none.
func lockIDs(locks []*railyard.Lock) string {
	ids := make([]string, len(locks))
	for i, l := range locks {
		ids[i] = l.ID
	}
	return joinOrDash(ids)
}

// writeOverviewTable writes one row per application, one column per
// environment.
func writeOverviewTable(w io.Writer, ov *railyard.Overview) {
	header := []string{"APPLICATION", "TEAM"}
	for _, e := range ov.Environments {
		header = append(header, strings.ToUpper(e.Name))
	}
	row(w, header...)
	for _, app := range ov.Applications {
		cells := []string{app.Name, orDash(app.Team)}
		for _, e := range ov.Environments {
			cells = append(cells, overviewCell(app.Environments[e.Name]))
		}
		row(w, cells...)
	}
}

// overviewCell says what runs in one environment: "2", "2 (queued 3)",
// "2, locked".
func overviewCell(c *railyard.OverviewCell) string {
	if c == nil {
		return "-"
	}
	s := "-"
	if c.Version != nil {
		s = fmt.Sprint(*c.Version)
	}
	if c.QueuedVersion != nil {
		s += fmt.Sprintf(" (queued %d)", *c.QueuedVersion)
	}
	if len(c.Locks) > 0 {
		s += ", locked"
	}
	return s
}
