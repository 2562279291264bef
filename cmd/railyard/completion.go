package main

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/railyard-cd/railyard"
	rhttp "github.com/railyard-cd/railyard/http"
	"github.com/spf13/cobra"
)

// Dynamic shell completion: application, environment, team, group and
// lock names come from the server the command's flags name. Completion
// must be quick and quiet, so it gives up after completionTimeout and
// offers nothing when the server cannot answer. `railyard completion`
// itself is cobra's.

const completionTimeout = 2 * time.Second

const noFiles = cobra.ShellCompDirectiveNoFileComp

// completeWith connects with the command's flags and calls list.
func (m *Main) completeWith(cmd *cobra.Command, o *clientOptions, list func(ctx context.Context, c *rhttp.Client) ([]string, error)) []string {
	ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
	defer cancel()
	c, err := m.connect(ctx, o)
	if err != nil {
		return nil
	}
	names, err := list(ctx, c)
	if err != nil {
		return nil
	}
	sort.Strings(names)
	return names
}

func listApps(ctx context.Context, c *rhttp.Client) ([]string, error) {
	apps, err := c.FindApplications(ctx)
	names := make([]string, len(apps))
	for i, a := range apps {
		names[i] = a.Name
	}
	return names, err
}

func listEnvs(ctx context.Context, c *rhttp.Client) ([]string, error) {
	envs, err := c.FindEnvironments(ctx)
	names := make([]string, len(envs))
	for i, e := range envs {
		names[i] = e.Name
	}
	return names, err
}

func listTeams(ctx context.Context, c *rhttp.Client) ([]string, error) {
	apps, err := c.FindApplications(ctx)
	var names []string
	seen := map[string]bool{}
	for _, a := range apps {
		if a.Team != "" && !seen[a.Team] {
			seen[a.Team] = true
			names = append(names, a.Team)
		}
	}
	return names, err
}

func listGroups(ctx context.Context, c *rhttp.Client) ([]string, error) {
	envs, err := c.FindEnvironments(ctx)
	var names []string
	seen := map[string]bool{}
	for _, e := range envs {
		if g := e.Config.EnvironmentGroup; g != "" && !seen[g] {
			seen[g] = true
			names = append(names, g)
		}
	}
	return names, err
}

// completeApps completes an application name as the first argument.
func (m *Main) completeApps(o *clientOptions) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, noFiles
		}
		return m.completeWith(cmd, o, listApps), noFiles
	}
}

// completeEnvArg completes an environment name as the first argument.
func (m *Main) completeEnvArg(o *clientOptions) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, noFiles
		}
		return m.completeWith(cmd, o, listEnvs), noFiles
	}
}

// completeEnvs completes an environment name as a flag value.
func (m *Main) completeEnvs(o *clientOptions) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		return m.completeWith(cmd, o, listEnvs), noFiles
	}
}

// completeManifestFlag completes --manifest: first "<env>=", then a file.
func (m *Main) completeManifestFlag(o *clientOptions) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if strings.Contains(toComplete, "=") {
			return nil, cobra.ShellCompDirectiveDefault
		}
		envs := m.completeWith(cmd, o, listEnvs)
		for i, e := range envs {
			envs[i] = e + "="
		}
		return envs, noFiles | cobra.ShellCompDirectiveNoSpace
	}
}

// completeLockTarget completes the arguments of lock and unlock: the
// environment, application, team or group, then (for unlock, which passes
// env) the ids of the existing locks on it.
func (m *Main) completeLockTarget(t lockTarget, o *clientOptions, env *string) cobra.CompletionFunc {
	lists := map[railyard.LockKind]func(context.Context, *rhttp.Client) ([]string, error){
		railyard.LockEnvironment: listEnvs, railyard.LockApplication: listApps,
		railyard.LockTeam: listTeams, railyard.LockGroup: listGroups,
	}
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		switch {
		case len(args) == 0:
			return m.completeWith(cmd, o, lists[t.kind]), noFiles
		case len(args) > 1 || env == nil:
			return nil, noFiles
		}
		return m.completeWith(cmd, o, func(ctx context.Context, c *rhttp.Client) ([]string, error) {
			return listLockIDs(ctx, c, t.key(args[0], *env, ""))
		}), noFiles
	}
}

// listLockIDs lists the ids of the locks matching a lock key without id.
func listLockIDs(ctx context.Context, c *rhttp.Client, k railyard.DeleteLock) ([]string, error) {
	filter := railyard.LockFilter{Kind: k.LockTarget.Kind, Environment: k.Environment, Application: k.Application, Team: k.Team}
	if k.LockTarget.Kind == railyard.LockGroup {
		filter = railyard.LockFilter{Kind: railyard.LockEnvironment}
	}
	locks, err := c.FindLocks(ctx, filter)
	var ids []string
	seen := map[string]bool{}
	for _, l := range locks {
		if !seen[l.ID] {
			seen[l.ID] = true
			ids = append(ids, l.ID)
		}
	}
	return ids, err
}
