package gitrepo

import "testing"

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"fatal: unable to access 'https://user:s3cret@git.example.com/m.git/': 403", "fatal: unable to access 'https://***@git.example.com/m.git/': 403"},
		{"http://s3cret@git.example.com/m.git", "http://***@git.example.com/m.git"},
		{"s3cret@git.example.com: Permission denied (publickey).", "***@git.example.com: Permission denied (publickey)."},
		{"fatal: 'ghp_s3cret@github.com:org/m.git' does not appear to be a git repository", "fatal: '***@github.com:org/m.git' does not appear to be a git repository"},
		{"remote: user:s3cret@[::1] refused", "remote: ***@[::1] refused"},
		{"HEAD@{1} is fine, and so is a@ alone", "HEAD@{1} is fine, and so is a@ alone"},
		{"nothing to hide", "nothing to hide"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q):\ngot  %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestURLCredentials(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in                   string
		credentials          bool
		public, display      string
		plainHTTPCredentials bool
	}{
		{"https://git.example.com/m.git", false, "https://git.example.com/m.git", "https://git.example.com/m.git", false},
		{"https://TOKEN@git.example.com/m.git", true, "https://git.example.com/m.git", "https://git.example.com/m.git", false},
		{"https://user:TOKEN@git.example.com/m.git", true, "https://git.example.com/m.git", "https://git.example.com/m.git", false},
		{"http://TOKEN@git.example.com/m.git", true, "http://git.example.com/m.git", "http://git.example.com/m.git", true},
		{"HTTP://user:TOKEN@git.example.com/m.git", true, "http://git.example.com/m.git", "http://git.example.com/m.git", true},
		{"ssh://git@git.example.com/m.git", false, "ssh://git@git.example.com/m.git", "ssh://git.example.com/m.git", false},
		{"ssh://git:TOKEN@git.example.com/m.git", true, "ssh://git@git.example.com/m.git", "ssh://git.example.com/m.git", false},
		{"git@github.com:org/m.git", false, "git@github.com:org/m.git", "github.com:org/m.git", false},
		{"/srv/git/m.git", false, "/srv/git/m.git", "/srv/git/m.git", false},
		{"file:///srv/git/m.git", false, "file:///srv/git/m.git", "file:///srv/git/m.git", false},
	} {
		if got := HasCredentials(tc.in); got != tc.credentials {
			t.Errorf("HasCredentials(%q) = %v", tc.in, got)
		}
		if got := PublicURL(tc.in); got != tc.public {
			t.Errorf("PublicURL(%q) = %q, want %q", tc.in, got, tc.public)
		}
		if got := RedactURL(tc.in); got != tc.display {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.display)
		}
		if got := IsPlainHTTP(tc.in) && HasCredentials(tc.in); got != tc.plainHTTPCredentials {
			t.Errorf("plain http with credentials(%q) = %v", tc.in, got)
		}
	}
}
