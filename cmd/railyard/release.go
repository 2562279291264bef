package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/railyard-cd/railyard"
	"github.com/spf13/cobra"
)

// releaseOptions are the flags of `railyard release`.
type releaseOptions struct {
	clientOptions
	version      int64
	manifests    []string
	manifestsDir string
	envs         []string
	release      railyard.CreateRelease
}

func (m *Main) newReleaseCommand() *cobra.Command {
	o := &releaseOptions{}
	cmd := &cobra.Command{
		Use:   "release <app>",
		Short: "Publish a release of an application",
		Long: `Publish a release: a new immutable version of an application with a manifest
for each environment it can run in. It is deployed at once to every
environment with upstream.latest that it has a manifest for (or queued
there, if that environment is locked).

Give the manifests with --manifest <env>=<file> (repeated; "-" reads
standard input) or with --manifests-dir, a directory of <env>.yaml files.
Without --version the version is the application's highest + 1. Publishing
the same version again with the same content changes nothing.`,
		Example: `  railyard release checkout --manifest development=dev.yaml --manifest staging=staging.yaml
  railyard release checkout --version 42 --manifests-dir ./rendered \
      --source-commit-id 4f1c2e9 --source-author "Jane Doe" --source-message "Fix rounding"
  railyard release checkout --undeploy`,
		Args:              exactArgs("app"),
		ValidArgsFunction: m.completeApps(&o.clientOptions),
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, args []string) error {
			return m.createRelease(ctx, o, args[0])
		}),
	}
	fs := cmd.Flags()
	fs.Int64Var(&o.version, "version", 0, "version of the release (default: the highest version + 1)")
	fs.StringArrayVar(&o.manifests, "manifest", nil, "`env=file`: the manifest for one environment (repeatable; file \"-\" is standard input)")
	fs.StringVar(&o.manifestsDir, "manifests-dir", "", "directory holding one <env>.yaml manifest per environment")
	fs.StringArrayVar(&o.envs, "env", nil, "with --undeploy: an environment to undeploy from (repeatable; default: every environment)")
	fs.StringVar(&o.release.Team, "team", "", "team the application belongs to")
	fs.StringVar(&o.release.SourceCommitID, "source-commit-id", "", "commit the release was built from (7 to 40 hex characters)")
	fs.StringVar(&o.release.SourceAuthor, "source-author", "", "author of that commit")
	fs.StringVar(&o.release.SourceMessage, "source-message", "", "message of that commit")
	fs.StringVar(&o.release.SourceBranch, "source-branch", "", "branch of that commit")
	fs.StringVar(&o.release.DisplayVersion, "display-version", "", "version shown to people, such as 1.4.2 (at most 15 characters)")
	fs.StringVar(&o.release.CILink, "ci-link", "", "URL of the CI run that built the release")
	fs.BoolVar(&o.release.Undeploy, "undeploy", false, "publish an undeploy release: empty manifests that remove the application")
	_ = cmd.MarkFlagDirname("manifests-dir")
	_ = cmd.RegisterFlagCompletionFunc("env", m.completeEnvs(&o.clientOptions))
	_ = cmd.RegisterFlagCompletionFunc("manifest", m.completeManifestFlag(&o.clientOptions))
	return newClientCommand(cmd, &o.clientOptions)
}

// createRelease publishes the release and says what happened.
func (m *Main) createRelease(ctx context.Context, o *releaseOptions, app string) error {
	if err := o.check(); err != nil {
		return err
	}
	c, err := m.connect(ctx, &o.clientOptions)
	if err != nil {
		return err
	}
	cr := o.release
	cr.Application = app
	cr.Version = o.version
	if cr.Undeploy {
		cr.Manifests, err = undeployManifests(ctx, o.envs, c.FindEnvironments)
	} else {
		cr.Manifests, err = o.readManifests(m.Stdin)
	}
	if err != nil {
		return err
	}
	res, err := c.CreateRelease(ctx, &cr)
	if err != nil {
		return err
	}
	return m.printer(&o.clientOptions).print(res, func(w io.Writer) {
		fmt.Fprintln(w, describeReleaseResult(res))
	})
}

// check rejects flag combinations that cannot be right.
func (o *releaseOptions) check() error {
	switch {
	case o.version < 0:
		return usageErrorf("--version must be a positive integer, got %d", o.version)
	case o.release.Undeploy && (len(o.manifests) > 0 || o.manifestsDir != ""):
		return usageErrorf("--undeploy publishes empty manifests: leave out --manifest and --manifests-dir (use --env to choose environments)")
	case !o.release.Undeploy && len(o.envs) > 0:
		return usageErrorf("--env only applies with --undeploy: give manifests with --manifest <env>=<file>")
	case o.release.Undeploy:
		return nil
	case len(o.manifests) > 0 && o.manifestsDir != "":
		return usageErrorf("give manifests with either --manifest or --manifests-dir, not both")
	case len(o.manifests) == 0 && o.manifestsDir == "":
		return usageErrorf("give at least one manifest: --manifest <env>=<file> or --manifests-dir <dir>")
	}
	return nil
}

// readManifests reads the manifest files the flags name, by environment.
func (o *releaseOptions) readManifests(stdin io.Reader) (map[string]string, error) {
	if o.manifestsDir != "" {
		return readManifestsDir(o.manifestsDir)
	}
	manifests := make(map[string]string, len(o.manifests))
	usedStdin := false
	for _, spec := range o.manifests {
		env, file, ok := strings.Cut(spec, "=")
		if !ok || env == "" || file == "" {
			return nil, usageErrorf("--manifest %q must have the form <env>=<file>", spec)
		}
		if _, dup := manifests[env]; dup {
			return nil, usageErrorf("--manifest names environment %s twice", env)
		}
		var data []byte
		var err error
		if file == "-" {
			if usedStdin {
				return nil, usageErrorf("--manifest: only one manifest can come from standard input (-)")
			}
			usedStdin = true
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(file)
		}
		if err != nil {
			return nil, fmt.Errorf("read manifest for %s: %w", env, err)
		}
		manifests[env] = string(data)
	}
	return manifests, nil
}

// readManifestsDir reads <env>.yaml (or <env>.yml) files from dir.
func readManifestsDir(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read manifests directory: %w", err)
	}
	manifests := map[string]string{}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		env := strings.TrimSuffix(e.Name(), ext)
		if _, dup := manifests[env]; dup {
			return nil, fmt.Errorf("manifests directory %s holds both %s.yaml and %s.yml: keep one", dir, env, env)
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read manifest for %s: %w", env, err)
		}
		manifests[env] = string(data)
	}
	if len(manifests) == 0 {
		return nil, fmt.Errorf("manifests directory %s holds no <env>.yaml files", dir)
	}
	return manifests, nil
}

// undeployManifests returns empty manifests for the named environments,
// or for every environment of the server if none is named.
func undeployManifests(ctx context.Context, envs []string, find func(context.Context) ([]*railyard.Environment, error)) (map[string]string, error) {
	if len(envs) == 0 {
		all, err := find(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range all {
			envs = append(envs, e.Name)
		}
		if len(envs) == 0 {
			return nil, fmt.Errorf("there are no environments to undeploy from")
		}
	}
	manifests := make(map[string]string, len(envs))
	for _, e := range envs {
		manifests[e] = ""
	}
	return manifests, nil
}

// describeReleaseResult says what publishing a release did, from its
// event's changes: "created release checkout 3; deployed to development".
func describeReleaseResult(res *railyard.Result) string {
	rel := res.Release
	if rel == nil {
		return res.Outcome
	}
	label := rel.Application + " " + railyard.VersionLabel(rel.Version, rel.DisplayVersion)
	if res.Outcome == railyard.OutcomeUnchanged {
		return fmt.Sprintf("release %s already exists (identical)", label)
	}
	kind := "release"
	if rel.Undeploy {
		kind = "undeploy release"
	}
	s := fmt.Sprintf("created %s %s", kind, label)
	if res.Event == nil {
		return s
	}
	var deployed []string
	var queued []string
	for _, ch := range res.Event.Changes {
		switch ch.Op {
		case railyard.ChangeDeploy:
			deployed = append(deployed, ch.Environment)
		case railyard.ChangeQueue:
			queued = append(queued, fmt.Sprintf("%s (blocked by %s)", ch.Environment, blockerSummary(ch.Blockers)))
		}
	}
	sort.Strings(deployed)
	sort.Strings(queued)
	if len(deployed) > 0 {
		s += "; deployed to " + strings.Join(deployed, ", ")
	}
	if len(queued) > 0 {
		s += "; queued in " + strings.Join(queued, ", ")
	}
	return s
}
