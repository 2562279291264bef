package gitrepo

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
)

// How the exporter reaches its remote: through git's environment, and
// what its address may show.

// HTTP transfers slower than lowSpeedLimit bytes a second for
// lowSpeedTime seconds are aborted by git itself: a transfer that stalls
// fails within a minute even when the git timeout is raised for a large
// first fetch.
const (
	lowSpeedLimit = 1000
	lowSpeedTime  = 60
)

// ssh keep-alives: a connection that stops answering is dropped after
// sshAliveInterval × sshAliveCount.
const (
	sshAliveInterval = 15
	sshAliveCount    = 4
	sshConnectSecs   = 30
)

// remoteName is the name under which git knows the remote. Its URL is
// given through the environment, never on the command line, where every
// user of the host could read a token in it.
const remoteName = "origin"

// remoteEnv configures how git reaches the remote through its
// environment: the remote's URL and credentials (GIT_CONFIG_* for the URL
// and an https token header, GIT_SSH_COMMAND for a key), and limits that
// make a stalled connection fail instead of hanging (HTTP low-speed
// limits, ssh keep-alives).
func remoteEnv(cfg Config) []string {
	env := []string{
		fmt.Sprintf("GIT_HTTP_LOW_SPEED_LIMIT=%d", lowSpeedLimit),
		fmt.Sprintf("GIT_HTTP_LOW_SPEED_TIME=%d", lowSpeedTime),
	}
	var config [][2]string
	if cfg.RemoteURL != "" {
		config = append(config, [2]string{"remote." + remoteName + ".url", cfg.RemoteURL})
	}
	if cfg.Token != "" {
		basic := base64.StdEncoding.EncodeToString([]byte(cfg.TokenUser + ":" + cfg.Token))
		config = append(config, [2]string{"http.extraHeader", "Authorization: Basic " + basic})
	}
	if len(config) > 0 {
		env = append(env, fmt.Sprintf("GIT_CONFIG_COUNT=%d", len(config)))
		for i, kv := range config {
			env = append(env, fmt.Sprintf("GIT_CONFIG_KEY_%d=%s", i, kv[0]), fmt.Sprintf("GIT_CONFIG_VALUE_%d=%s", i, kv[1]))
		}
	}
	if cfg.CAFile != "" {
		env = append(env, "GIT_SSL_CAINFO="+cfg.CAFile)
	}
	// ssh never prompts (BatchMode), never accepts an unknown host key,
	// and gives up on a server that stops answering.
	ssh := fmt.Sprintf("ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=%d -o ServerAliveInterval=%d -o ServerAliveCountMax=%d",
		sshConnectSecs, sshAliveInterval, sshAliveCount)
	if cfg.SSHKeyFile != "" {
		ssh += " -o IdentitiesOnly=yes -i " + shellQuote(cfg.SSHKeyFile)
	}
	if cfg.KnownHostsFile != "" {
		ssh += " -o UserKnownHostsFile=" + shellQuote(cfg.KnownHostsFile)
	}
	return append(env, "GIT_SSH_COMMAND="+ssh)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// remoteTimeout names the remote in a timeout of a command that talks to
// it ("git push to <url>"), and returns any other error unchanged.
func remoteTimeout(err error, what, remote string) error {
	var te *gitcli.TimeoutError
	if errors.As(err, &te) {
		return &gitcli.TimeoutError{Cmd: what + " " + RedactURL(remote), After: te.After}
	}
	return err
}

// Redact removes credentials from free text (git's messages, errors), so
// that errors, logs and the export status never carry a token: every
// user@host, with or without a scheme, becomes ***@host.
func Redact(s string) string { return gitcli.Redact(s) }

// parseURL parses raw if it is a URL (scheme://…), as git tells URLs from
// paths and scp-like addresses.
func parseURL(raw string) (*url.URL, bool) {
	if !strings.Contains(raw, "://") {
		return nil, false
	}
	u, err := url.Parse(raw)
	return u, err == nil
}

// cutSCPUser splits git's scp-like address user@host:path (ssh) into the
// user and host:path. Like git, it takes an address for scp-like when a
// colon comes before any slash.
func cutSCPUser(raw string) (user, rest string, ok bool) {
	if strings.Contains(raw, "://") {
		return "", "", false
	}
	colon := strings.IndexByte(raw, ':')
	if colon < 0 || strings.ContainsRune(raw[:colon], '/') {
		return "", "", false
	}
	at := strings.LastIndexByte(raw[:colon], '@')
	if at < 0 {
		return "", raw, true
	}
	return raw[:at], raw[at+1:], true
}

// isSSH reports whether scheme is one of git's names for ssh.
func isSSH(scheme string) bool {
	switch strings.ToLower(scheme) {
	case "ssh", "git+ssh", "ssh+git":
		return true
	}
	return false
}

// HasCredentials reports whether a repository address carries a secret:
// any userinfo of a URL, a user name alone too (http://TOKEN@host/ sends
// the token as the user name), except the user name of an ssh address,
// which names the account (git@host) while the key authenticates.
func HasCredentials(raw string) bool {
	if u, ok := parseURL(raw); ok {
		if u.User == nil {
			return false
		}
		_, hasPassword := u.User.Password()
		return !isSSH(u.Scheme) || hasPassword
	}
	user, _, ok := cutSCPUser(raw)
	return ok && strings.ContainsRune(user, ':')
}

// IsPlainHTTP reports whether raw is an http:// URL, where credentials
// would travel in clear.
func IsPlainHTTP(raw string) bool {
	u, ok := parseURL(raw)
	return ok && strings.EqualFold(u.Scheme, "http")
}

// PublicURL returns the address without its credentials (see
// HasCredentials): what Argo CD is told to clone, which Railyard writes
// into documents that everyone who reads the repository reads. The user
// name of an ssh address stays: Argo CD needs it.
func PublicURL(raw string) string {
	if !HasCredentials(raw) {
		return raw
	}
	if u, ok := parseURL(raw); ok {
		if isSSH(u.Scheme) {
			u.User = url.User(u.User.Username())
		} else {
			u.User = nil
		}
		return u.String()
	}
	return RedactURL(raw)
}

// RedactURL returns the address without any user name or password, for
// display: URLs lose their userinfo, scp-like addresses their user; a
// path is returned as it is.
func RedactURL(raw string) string {
	if u, ok := parseURL(raw); ok {
		u.User = nil
		return u.String()
	}
	if strings.Contains(raw, "://") {
		return Redact(raw) // not a valid URL: remove what looks like userinfo
	}
	if _, rest, ok := cutSCPUser(raw); ok {
		return rest
	}
	return raw
}
