package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/railyard-cd/railyard"
	rhttp "github.com/railyard-cd/railyard/http"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// defaultServer is the URL client commands use when nothing else names one:
// where `railyard serve` listens by default.
const defaultServer = "http://127.0.0.1:8080"

// Environment variables the client commands read.
const (
	envServer      = "RAILYARD_SERVER"
	envConfig      = "RAILYARD_CONFIG"
	envAuthorName  = "RAILYARD_AUTHOR_NAME"
	envAuthorEmail = "RAILYARD_AUTHOR_EMAIL"
)

// fileConfig is the client configuration file, by default
// ~/.config/railyard/config.yaml:
//
//	server: https://railyard.example.com
//	author:
//	  name: Jane Doe
//	  email: jane@example.com
type fileConfig struct {
	Server string `yaml:"server"`
	Author struct {
		Name  string `yaml:"name"`
		Email string `yaml:"email"`
	} `yaml:"author"`
}

// clientOptions are the flags every client command takes. Each command
// has its own, created when the command tree is built.
type clientOptions struct {
	server      string
	authorName  string
	authorEmail string
	output      string
}

// bind registers the client flags on fs.
func (o *clientOptions) bind(fs *pflag.FlagSet) {
	fs.StringVar(&o.server, "server", "", "URL of the Railyard server (default: $"+envServer+", the config file, or "+defaultServer+")")
	fs.StringVar(&o.authorName, "author-name", "", "name recorded as the author of changes (default: $"+envAuthorName+", the config file, git config user.name, or $USER)")
	fs.StringVar(&o.authorEmail, "author-email", "", "e-mail recorded as the author of changes (default: $"+envAuthorEmail+", the config file, or git config user.email)")
	fs.StringVarP(&o.output, "output", "o", formatTable, "output format: table, json or yaml")
}

// newClientCommand returns a command with the client flags bound to opts.
func newClientCommand(cmd *cobra.Command, opts *clientOptions) *cobra.Command {
	opts.bind(cmd.Flags())
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{formatTable, formatJSON, formatYAML}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// connect checks the output format and returns a client for the server
// the options, the environment or the config file name, acting as the
// author they name.
func (m *Main) connect(ctx context.Context, o *clientOptions) (*rhttp.Client, error) {
	if err := checkFormat(o.output); err != nil {
		return nil, err
	}
	cfg, err := m.loadConfig()
	if err != nil {
		return nil, err
	}
	server := firstNonEmpty(o.server, m.Getenv(envServer), cfg.Server, defaultServer)
	if !strings.HasPrefix(server, "http://") && !strings.HasPrefix(server, "https://") {
		return nil, usageErrorf("server %q must be an http:// or https:// URL", server)
	}
	m.server = strings.TrimRight(server, "/")
	c := rhttp.NewClient(m.server)
	if m.HTTPClient != nil {
		c.HTTPClient = m.HTTPClient
	}
	c.Actor = m.actor(ctx, o, cfg)
	return c, nil
}

// actor resolves the author of changes, field by field: flags, environment
// variables, the config file, git's configuration, then $USER.
func (m *Main) actor(ctx context.Context, o *clientOptions, cfg *fileConfig) railyard.Actor {
	name := firstNonEmpty(o.authorName, m.Getenv(envAuthorName), cfg.Author.Name)
	if name == "" {
		name = m.gitConfig(ctx, "user.name")
	}
	email := firstNonEmpty(o.authorEmail, m.Getenv(envAuthorEmail), cfg.Author.Email)
	if email == "" {
		email = m.gitConfig(ctx, "user.email")
	}
	if name == "" {
		name = m.Getenv("USER")
	}
	return railyard.Actor{Name: name, Email: email}
}

func (m *Main) gitConfig(ctx context.Context, key string) string {
	if m.GitConfig == nil {
		return ""
	}
	return m.GitConfig(ctx, key)
}

// configPath returns the config file's path and whether it was named
// explicitly (then it must exist).
func (m *Main) configPath() (string, bool) {
	if p := m.Getenv(envConfig); p != "" {
		return p, true
	}
	if dir := m.Getenv("XDG_CONFIG_HOME"); dir != "" {
		return filepath.Join(dir, "railyard", "config.yaml"), false
	}
	if home := m.Getenv("HOME"); home != "" {
		return filepath.Join(home, ".config", "railyard", "config.yaml"), false
	}
	return "", false
}

// loadConfig reads the config file; a missing default file is an empty
// configuration.
func (m *Main) loadConfig() (*fileConfig, error) {
	cfg := &fileConfig{}
	path, explicit := m.configPath()
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return cfg, nil
	case err != nil:
		return nil, fmt.Errorf("config file: %w", err)
	}
	return parseConfig(path, data)
}

// configKeysHint lists the config file's keys, for its error messages.
const configKeysHint = "it holds server, author.name and author.email"

// parseConfig reads the config file's content. Its shape is checked on
// the YAML nodes before decoding, so that a mistake is reported with its
// line and in the file's own words (a key, not a Go type).
func parseConfig(path string, data []byte) (*fileConfig, error) {
	cfg := &fileConfig{}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config file %s: %v", path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Tag == "!!null" {
		return cfg, nil // empty, or only comments
	}
	if err := checkConfigMapping(doc.Content[0], ""); err != nil {
		return nil, fmt.Errorf("config file %s, %w", path, err)
	}
	if err := doc.Decode(cfg); err != nil {
		return nil, fmt.Errorf("config file %s: %v", path, err)
	}
	return cfg, nil
}

// checkConfigMapping checks the mapping at prefix ("" for the top level,
// "author." inside author): known keys, each once, with values of the
// right kind.
func checkConfigMapping(n *yaml.Node, prefix string) error {
	known := []string{"server", "author"}
	what := "the file"
	if prefix != "" {
		known = []string{"author.name", "author.email"}
		what = strings.TrimSuffix(prefix, ".")
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: %s must be a mapping of keys (%s)", n.Line, what, configKeysHint)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		name := prefix + key.Value
		if !slices.Contains(known, name) {
			return fmt.Errorf("line %d: unknown key %q (%s)", key.Line, name, configKeysHint)
		}
		if line, ok := seen[name]; ok {
			return fmt.Errorf("line %d: %s is set twice (first on line %d)", key.Line, name, line)
		}
		seen[name] = key.Line
		switch {
		case value.Tag == "!!null":
			// "server:" with nothing after it leaves the setting unset.
		case name == "author":
			if err := checkConfigMapping(value, "author."); err != nil {
				return err
			}
		case value.Kind != yaml.ScalarNode:
			return fmt.Errorf("line %d: %s must be a string", value.Line, name)
		}
	}
	return nil
}

// firstNonEmpty returns the first of values that is not empty.
func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
