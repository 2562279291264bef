package main

import (
	"context"
	"fmt"
	"io"

	"github.com/railyard-cd/railyard"
	"github.com/spf13/cobra"
)

func (m *Main) newAppCommand() *cobra.Command {
	cmd := newGroupCommand("app", "Manage applications",
		m.newAppListCommand(),
		m.newAppGetCommand(),
		m.newAppDeleteCommand(),
	)
	cmd.Aliases = []string{"application", "applications", "apps"}
	return cmd
}

// appOptions are the flags of the app subcommands.
type appOptions struct {
	clientOptions
}

func (m *Main) newAppListCommand() *cobra.Command {
	o := &appOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List applications",
		Args:    noArgs,
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, _ []string) error {
			c, err := m.connect(ctx, &o.clientOptions)
			if err != nil {
				return err
			}
			apps, err := c.FindApplications(ctx)
			if err != nil {
				return err
			}
			return m.printer(&o.clientOptions).print(apps, func(w io.Writer) { writeApplicationsTable(w, apps) })
		}),
	}
	return newClientCommand(cmd, &o.clientOptions)
}

// writeApplicationsTable writes one row per application.
func writeApplicationsTable(w io.Writer, apps []*railyard.Application) {
	if len(apps) == 0 {
		fmt.Fprintln(w, "No applications.")
		return
	}
	row(w, "NAME", "TEAM", "CREATED (UTC)")
	for _, a := range apps {
		row(w, a.Name, orDash(a.Team), formatTime(a.CreatedAt))
	}
}

func (m *Main) newAppGetCommand() *cobra.Command {
	o := &appOptions{}
	cmd := &cobra.Command{
		Use:   "get <app>",
		Short: "Show an application and its releases",
		Long: `Show an application and its releases, newest first (railyard status <app>
shows what runs where).`,
		Example:           "  railyard app get checkout",
		Args:              exactArgs("app"),
		ValidArgsFunction: m.completeApps(&o.clientOptions),
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, args []string) error {
			c, err := m.connect(ctx, &o.clientOptions)
			if err != nil {
				return err
			}
			detail, err := c.FindApplication(ctx, args[0])
			if err != nil {
				return err
			}
			return m.printer(&o.clientOptions).print(detail, func(w io.Writer) { writeApplication(w, detail) })
		}),
	}
	return newClientCommand(cmd, &o.clientOptions)
}

// writeApplication writes an application's summary and its releases.
func writeApplication(w io.Writer, d *railyard.ApplicationDetail) {
	row(w, "Name:", d.Name)
	row(w, "Team:", orDash(d.Team))
	row(w, "Created (UTC):", formatTime(d.CreatedAt))
	fmt.Fprintln(w)
	row(w, "VERSION", "COMMIT", "BRANCH", "AUTHOR", "CREATED (UTC)", "ENVIRONMENTS", "MESSAGE")
	for _, r := range d.Releases {
		version := railyard.VersionLabel(r.Version, r.DisplayVersion)
		if r.Undeploy {
			version += " undeploy"
		}
		commit := r.SourceCommitID[:min(7, len(r.SourceCommitID))]
		row(w, version, orDash(commit), orDash(r.SourceBranch), orDash(r.SourceAuthor), formatTime(r.CreatedAt),
			joinOrDash(r.Environments), orDash(summary(r.SourceMessage, 50)))
	}
}

func (m *Main) newAppDeleteCommand() *cobra.Command {
	o := &appOptions{}
	cmd := &cobra.Command{
		Use:   "delete <app>",
		Short: "Delete an application with its releases and locks",
		Long: `Delete an application with its releases and locks. It is refused while any
environment runs a version that is not an undeploy release: publish one with
"railyard release <app> --undeploy" and deploy it everywhere first.`,
		Example:           "  railyard app delete checkout",
		Args:              exactArgs("app"),
		ValidArgsFunction: m.completeApps(&o.clientOptions),
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, args []string) error {
			c, err := m.connect(ctx, &o.clientOptions)
			if err != nil {
				return err
			}
			res, err := c.DeleteApplication(ctx, args[0])
			if err != nil {
				return err
			}
			return m.printer(&o.clientOptions).print(res, func(w io.Writer) {
				fmt.Fprintf(w, "deleted application %s\n", args[0])
			})
		}),
	}
	return newClientCommand(cmd, &o.clientOptions)
}
