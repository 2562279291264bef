package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

func (m *Main) newEnvCommand() *cobra.Command {
	cmd := newGroupCommand("env", "Manage environments",
		m.newEnvApplyCommand(),
		m.newEnvListCommand(),
		m.newEnvGetCommand(),
		m.newEnvDeleteCommand(),
	)
	cmd.Aliases = []string{"environment", "environments"}
	return cmd
}

// envApplyOptions are the flags of `railyard env apply`.
type envApplyOptions struct {
	clientOptions
	files []string
}

func (m *Main) newEnvApplyCommand() *cobra.Command {
	o := &envApplyOptions{}
	cmd := &cobra.Command{
		Use:   "apply -f <file>",
		Short: "Create environments or update their configuration from files",
		Long: `Create environments or update their configuration from YAML or JSON files.

A file holds one environment, a list of environments, or (YAML) several
documents separated by "---". An environment is its name and its config:

  name: production
  config:
    upstream:
      environment: staging
    environmentGroup: prod
    argocd:
      destination:
        server: https://kubernetes.default.svc

The output of "railyard env get <env> -o yaml" and "railyard env list -o yaml"
can be applied as it is. All environments of one apply change together or not
at all; an environment is applied after its upstream, whatever the order in
the files.`,
		Example: `  railyard env apply -f environments.yaml
  railyard env get production -o yaml > production.yaml && railyard env apply -f production.yaml`,
		Args: noArgs,
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, _ []string) error {
			return m.applyEnvironments(ctx, o)
		}),
	}
	cmd.Flags().StringArrayVarP(&o.files, "filename", "f", nil, "YAML or JSON file of environments (repeatable; \"-\" is standard input)")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	return newClientCommand(cmd, &o.clientOptions)
}

// envDocument is one environment in a file given to env apply. Its
// timestamps are accepted, so that the output of env get can be applied,
// and ignored.
type envDocument struct {
	Name      string                     `json:"name"`
	Config    railyard.EnvironmentConfig `json:"config"`
	CreatedAt json.RawMessage            `json:"createdAt,omitempty"`
	UpdatedAt json.RawMessage            `json:"updatedAt,omitempty"`
}

// applyEnvironments puts every environment of the files in one batch.
func (m *Main) applyEnvironments(ctx context.Context, o *envApplyOptions) error {
	if len(o.files) == 0 {
		return usageErrorf("give at least one file with -f <file>")
	}
	var docs []envDocument
	for _, f := range o.files {
		d, err := m.readEnvFile(f)
		if err != nil {
			return err
		}
		docs = append(docs, d...)
	}
	docs, err := orderEnvironments(docs)
	if err != nil {
		return err
	}
	entries, err := envBatch(docs)
	if err != nil {
		return err
	}
	c, err := m.connect(ctx, &o.clientOptions)
	if err != nil {
		return err
	}
	results, err := c.Batch(ctx, entries)
	if err != nil {
		return nameBatchError(err, docs)
	}
	return m.printer(&o.clientOptions).print(results, func(w io.Writer) {
		for _, r := range results {
			fmt.Fprintln(w, describeEnvironmentResult(r))
		}
	})
}

// readEnvFile reads the environments of one file ("-": standard input).
func (m *Main) readEnvFile(name string) ([]envDocument, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(m.Stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read environments: %w", err)
	}
	docs, err := parseEnvDocuments(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", name, errorMessage(err))
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s holds no environments", name)
	}
	return docs, nil
}

// parseEnvDocuments reads one environment, a list of them, or a stream of
// YAML documents of either, from YAML or JSON. Unknown fields are errors,
// so that a misspelt setting does not pass silently.
func parseEnvDocuments(data []byte) ([]envDocument, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []envDocument
	for i := 1; ; i++ {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("not valid YAML or JSON: %v", err)
		}
		if v == nil {
			continue // an empty document
		}
		js, err := json.Marshal(jsonValue(v))
		if err != nil {
			return nil, fmt.Errorf("document %d: %v", i, err)
		}
		var more []envDocument
		if _, ok := v.([]any); ok {
			err = railyard.DecodeJSONStrict(js, &more)
		} else {
			more = make([]envDocument, 1)
			err = railyard.DecodeJSONStrict(js, &more[0])
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %s", i, errorMessage(err))
		}
		docs = append(docs, more...)
	}
}

// jsonValue converts what yaml.v3 decodes into values encoding/json can
// encode (maps with non-string keys).
func jsonValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = jsonValue(e)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[fmt.Sprint(k)] = jsonValue(e)
		}
		return m
	case []any:
		for i, e := range v {
			v[i] = jsonValue(e)
		}
		return v
	}
	return v
}

// orderEnvironments returns the environments so that each comes after its
// upstream if that is among them (the server checks that an upstream
// exists, inside the same transaction), and refuses duplicates and cycles.
func orderEnvironments(docs []envDocument) ([]envDocument, error) {
	if len(docs) > railyard.MaxBatchCommands {
		return nil, usageErrorf("one apply takes at most %d environments, got %d: split the files", railyard.MaxBatchCommands, len(docs))
	}
	byName := make(map[string]envDocument, len(docs))
	for _, d := range docs {
		if _, dup := byName[d.Name]; dup {
			return nil, fmt.Errorf("environment %q is given twice", d.Name)
		}
		byName[d.Name] = d
	}
	const visiting, done = 1, 2
	state := make(map[string]int, len(docs))
	ordered := make([]envDocument, 0, len(docs))
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		d, ok := byName[name]
		switch {
		case !ok || state[name] == done:
			return nil
		case state[name] == visiting:
			return fmt.Errorf("the upstream chain forms a cycle: %s", strings.Join(append(path, name), " → "))
		}
		state[name] = visiting
		if up := d.Config.Upstream; up != nil && up.Environment != "" {
			if err := visit(up.Environment, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = done
		ordered = append(ordered, d)
		return nil
	}
	for _, d := range docs {
		if err := visit(d.Name, nil); err != nil {
			return nil, err
		}
	}
	return ordered, nil
}

// envBatch returns the batch that puts the environments, in order.
func envBatch(docs []envDocument) ([]railyard.BatchEntry, error) {
	entries := make([]railyard.BatchEntry, len(docs))
	for i, d := range docs {
		params, err := json.Marshal(railyard.PutEnvironment{Name: d.Name, Config: d.Config})
		if err != nil {
			return nil, fmt.Errorf("encode environment %s: %w", d.Name, err)
		}
		entries[i] = railyard.BatchEntry{Kind: railyard.KindEnvironmentPut, Params: params}
	}
	return entries, nil
}

// nameBatchError replaces the "command N (environment.put): " the server
// puts before the message of a failing batch command with the
// environment's name: the command numbers are this program's, not the
// user's.
func nameBatchError(err error, docs []envDocument) error {
	e := railyard.AsError(err)
	if e == nil {
		return err
	}
	for i, d := range docs {
		prefix := fmt.Sprintf("command %d (%s): ", i+1, railyard.KindEnvironmentPut)
		if msg, ok := strings.CutPrefix(e.Message, prefix); ok {
			named := *e
			named.Message = fmt.Sprintf("environment %s: %s", d.Name, msg)
			return &named
		}
	}
	return err
}

// describeEnvironmentResult says what putting an environment did.
func describeEnvironmentResult(r *railyard.Result) string {
	name := ""
	if r.Environment != nil {
		name = r.Environment.Name
	}
	switch r.Outcome {
	case railyard.OutcomeCreated:
		return "created environment " + name
	case railyard.OutcomeUpdated:
		return "updated environment " + name
	case railyard.OutcomeUnchanged:
		return fmt.Sprintf("environment %s unchanged", name)
	}
	return fmt.Sprintf("environment %s %s", name, r.Outcome)
}

// envListOptions are the flags of `railyard env list`.
type envListOptions struct {
	clientOptions
}

func (m *Main) newEnvListCommand() *cobra.Command {
	o := &envListOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List environments",
		Args:    noArgs,
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, _ []string) error {
			c, err := m.connect(ctx, &o.clientOptions)
			if err != nil {
				return err
			}
			envs, err := c.FindEnvironments(ctx)
			if err != nil {
				return err
			}
			return m.printer(&o.clientOptions).print(envs, func(w io.Writer) { writeEnvironmentsTable(w, envs) })
		}),
	}
	return newClientCommand(cmd, &o.clientOptions)
}

// upstreamCell says where an environment's versions come from.
func upstreamCell(e *railyard.Environment) string {
	up := e.Config.Upstream
	switch {
	case up == nil:
		return "-"
	case up.Latest && up.Branch != "":
		return fmt.Sprintf("latest (branch %s)", up.Branch)
	case up.Latest:
		return "latest"
	}
	return up.Environment
}

// writeEnvironmentsTable writes one row per environment.
func writeEnvironmentsTable(w io.Writer, envs []*railyard.Environment) {
	if len(envs) == 0 {
		fmt.Fprintln(w, "No environments.")
		return
	}
	row(w, "NAME", "UPSTREAM", "GROUP", "UPDATED (UTC)")
	for _, e := range envs {
		row(w, e.Name, upstreamCell(e), orDash(e.Config.EnvironmentGroup), formatTime(e.UpdatedAt))
	}
}

// envGetOptions are the flags of `railyard env get`.
type envGetOptions struct {
	clientOptions
}

func (m *Main) newEnvGetCommand() *cobra.Command {
	o := &envGetOptions{}
	cmd := &cobra.Command{
		Use:               "get <env>",
		Short:             "Show an environment and its configuration",
		Example:           "  railyard env get production\n  railyard env get production -o yaml",
		Args:              exactArgs("env"),
		ValidArgsFunction: m.completeEnvArg(&o.clientOptions),
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, args []string) error {
			c, err := m.connect(ctx, &o.clientOptions)
			if err != nil {
				return err
			}
			env, err := c.FindEnvironment(ctx, args[0])
			if err != nil {
				return err
			}
			var windows *railyard.WindowState
			if len(env.Config.DeployWindows) > 0 && o.output == formatTable {
				if windows, err = c.DeployWindowState(ctx, env.Name); err != nil {
					return err
				}
			}
			return m.printer(&o.clientOptions).print(env, func(w io.Writer) { writeEnvironment(w, env, windows, m.Now()) })
		}),
	}
	return newClientCommand(cmd, &o.clientOptions)
}

// writeEnvironment writes an environment's summary, what its deploy
// windows say now (windows, nil without windows) and its whole
// configuration as YAML.
func writeEnvironment(w io.Writer, e *railyard.Environment, windows *railyard.WindowState, now time.Time) {
	row(w, "Name:", e.Name)
	row(w, "Upstream:", upstreamCell(e))
	row(w, "Group:", orDash(e.Config.EnvironmentGroup))
	if windows != nil {
		row(w, "Deploy windows:", describeWindowState(windows, now))
	}
	row(w, "Created (UTC):", formatTime(e.CreatedAt))
	row(w, "Updated (UTC):", formatTime(e.UpdatedAt))
	var cfg bytes.Buffer
	if err := writeYAML(&cfg, e.Config); err != nil {
		fmt.Fprintf(w, "Config: %v\n", err)
		return
	}
	fmt.Fprintf(w, "Config:\n%s", indent(cfg.String(), "  "))
}

// envDeleteOptions are the flags of `railyard env delete`.
type envDeleteOptions struct {
	clientOptions
}

func (m *Main) newEnvDeleteCommand() *cobra.Command {
	o := &envDeleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete <env>",
		Short: "Delete an environment with its locks and deployments",
		Long: `Delete an environment with its locks and deployments. It is refused while
another environment names it as its upstream.`,
		Example:           "  railyard env delete review-42",
		Args:              exactArgs("env"),
		ValidArgsFunction: m.completeEnvArg(&o.clientOptions),
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, args []string) error {
			c, err := m.connect(ctx, &o.clientOptions)
			if err != nil {
				return err
			}
			res, err := c.DeleteEnvironment(ctx, args[0])
			if err != nil {
				return err
			}
			return m.printer(&o.clientOptions).print(res, func(w io.Writer) {
				fmt.Fprintf(w, "deleted environment %s\n", args[0])
			})
		}),
	}
	return newClientCommand(cmd, &o.clientOptions)
}

// describeWindowState says whether automation may deploy now and until
// when: "closed until 2025-11-21 16:00:00 UTC: deploy window deny …".
func describeWindowState(st *railyard.WindowState, now time.Time) string {
	s := "open"
	if !st.Allowed {
		s = "closed"
	}
	if st.NextChange != nil {
		s += " until " + formatTime(*st.NextChange) + " UTC"
	}
	if len(st.Blockers) > 0 {
		parts := make([]string, len(st.Blockers))
		for i, b := range st.Blockers {
			b.Until = nil // said already
			parts[i] = blockerShort(b, now)
		}
		s += ": " + strings.Join(parts, "; ")
	}
	return s
}
