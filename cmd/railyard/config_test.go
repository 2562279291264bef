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

func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"missing explicit file", map[string]string{"RAILYARD_CONFIG": filepath.Join(dir, "nope.yaml")}, "Error: config file: open " + filepath.Join(dir, "nope.yaml") + ": no such file or directory"},
		{"unknown key", map[string]string{"RAILYARD_CONFIG": writeFile(t, dir, "typo.yaml", "sever: http://x\n")},
			"Error: config file " + filepath.Join(dir, "typo.yaml") + ": yaml: unmarshal errors:\n  line 1: field sever not found in type main.fileConfig (it holds server, author.name and author.email)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, "")
			c.env = tt.env
			stderr := c.fail(exitError, "status")
			equal(t, "stderr", strings.TrimSuffix(stderr, "\n"), tt.want)
		})
	}
}
