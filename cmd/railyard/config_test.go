package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
)

// TestClientConfig checks where client commands take the server and the
// author from: flags, then environment variables, then the config file,
// then git, then $USER.
func TestClientConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeFile(t, dir, "config.yaml", "server: http://from-file:1\nauthor:\n  name: File Author\n  email: file@example.com\n")
	xdg := filepath.Join(dir, "xdg")
	if err := os.MkdirAll(filepath.Join(xdg, "railyard"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(xdg, "railyard"), "config.yaml", "server: http://xdg:1/\n")
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(filepath.Join(home, ".config", "railyard"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, ".config", "railyard"), "config.yaml", "server: http://home:1\n")
	git := map[string]string{"user.name": "Git Author", "user.email": "git@example.com"}
	tests := []struct {
		name       string
		env        map[string]string
		flags      clientOptions
		noGit      bool
		wantServer string
		wantActor  railyard.Actor
	}{
		{"defaults", map[string]string{"HOME": dir}, clientOptions{}, true, defaultServer, railyard.Actor{}},
		{"$USER", map[string]string{"USER": "jane"}, clientOptions{}, true, defaultServer, railyard.Actor{Name: "jane"}},
		{"git", map[string]string{"USER": "jane"}, clientOptions{}, false, defaultServer, railyard.Actor{Name: "Git Author", Email: "git@example.com"}},
		{"config file", map[string]string{"RAILYARD_CONFIG": file}, clientOptions{}, false, "http://from-file:1", railyard.Actor{Name: "File Author", Email: "file@example.com"}},
		{"config file in HOME", map[string]string{"HOME": home}, clientOptions{}, false, "http://home:1", railyard.Actor{Name: "Git Author", Email: "git@example.com"}},
		{"config file in XDG_CONFIG_HOME", map[string]string{"HOME": home, "XDG_CONFIG_HOME": xdg}, clientOptions{}, false, "http://xdg:1", railyard.Actor{Name: "Git Author", Email: "git@example.com"}},
		{"environment", map[string]string{"RAILYARD_CONFIG": file, "RAILYARD_SERVER": "https://from-env", "RAILYARD_AUTHOR_NAME": "Env Author"}, clientOptions{}, false,
			"https://from-env", railyard.Actor{Name: "Env Author", Email: "file@example.com"}},
		{"flags", map[string]string{"RAILYARD_CONFIG": file, "RAILYARD_SERVER": "https://from-env", "RAILYARD_AUTHOR_EMAIL": "env@example.com"},
			clientOptions{server: "http://from-flag:9", authorName: "Flag Author", authorEmail: "flag@example.com"}, false,
			"http://from-flag:9", railyard.Actor{Name: "Flag Author", Email: "flag@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Main{Getenv: func(k string) string { return tt.env[k] }}
			if !tt.noGit {
				m.GitConfig = func(_ context.Context, key string) string { return git[key] }
			}
			tt.flags.output = formatTable
			c, err := m.connect(context.Background(), &tt.flags)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "server", m.server, tt.wantServer)
			if c.Actor != tt.wantActor {
				t.Errorf("actor = %+v, want %+v", c.Actor, tt.wantActor)
			}
		})
	}
}

// TestConfigFileErrors checks what a mistake in the config file says: the
// file, the line and the key in the file's words, never a Go type.
func TestConfigFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := func(name, content string) map[string]string {
		return map[string]string{"RAILYARD_CONFIG": writeFile(t, dir, name, content)}
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	const keys = " (it holds server, author.name and author.email)"
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"missing explicit file", map[string]string{"RAILYARD_CONFIG": path("nope.yaml")}, "Error: config file: open " + path("nope.yaml") + ": no such file or directory"},
		{"unknown key", file("typo.yaml", "sever: http://x\n"),
			"Error: config file " + path("typo.yaml") + ", line 1: unknown key \"sever\"" + keys},
		{"unknown author key", file("author.yaml", "server: http://x\n# who I am\nauthor:\n  name: Jane\n  mail: jane@example.com\n"),
			"Error: config file " + path("author.yaml") + ", line 5: unknown key \"author.mail\"" + keys},
		{"dotted key at the top", file("dotted.yaml", "author.name: Jane\n"),
			"Error: config file " + path("dotted.yaml") + ", line 1: unknown key \"author.name\"" + keys},
		{"author as a string", file("authorstr.yaml", "author: Jane Doe\n"),
			"Error: config file " + path("authorstr.yaml") + ", line 1: author must be a mapping of keys" + keys},
		{"not a mapping", file("list.yaml", "- server: http://x\n"),
			"Error: config file " + path("list.yaml") + ", line 1: the file must be a mapping of keys" + keys},
		{"server as a list", file("serverlist.yaml", "server:\n  - http://x\n"),
			"Error: config file " + path("serverlist.yaml") + ", line 2: server must be a string"},
		{"twice", file("twice.yaml", "server: http://x\nserver: http://y\n"),
			"Error: config file " + path("twice.yaml") + ", line 2: server is set twice (first on line 1)"},
		{"not YAML", file("broken.yaml", "server: [http://x\n"),
			"Error: config file " + path("broken.yaml") + ": yaml: line 1: did not find expected ',' or ']'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, "")
			c.env = tt.env
			stderr := c.fail(exitError, "status")
			equal(t, "stderr", strings.TrimSuffix(stderr, "\n"), tt.want)
		})
	}
}

// TestConfigFileShapes checks that what the config file may hold is read
// as before: empty files, comments only, keys without values.
func TestConfigFileShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		content string
		want    fileConfig
	}{
		{"", fileConfig{}},
		{"# nothing yet\n", fileConfig{}},
		{"~\n", fileConfig{}},
		{"server:\nauthor:\n", fileConfig{}},
		{"author:\n  name: Jane Doe\n  email:\nserver: 'http://x:1'\n", func() fileConfig {
			c := fileConfig{Server: "http://x:1"}
			c.Author.Name = "Jane Doe"
			return c
		}()},
	}
	for _, tt := range tests {
		got, err := parseConfig("config.yaml", []byte(tt.content))
		if err != nil || *got != tt.want {
			t.Errorf("parseConfig(%q) = %+v, %v; want %+v", tt.content, got, err, tt.want)
		}
	}
}
