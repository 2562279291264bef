package main

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
)

// Manifests are generated, not read: a header that names the application,
// version and environment, then a filler of data lines that is the same
// for every release of an environment, padded to the exact size asked
// for. Between two versions of an application only the header differs, as
// between two builds whose image tag changed, so a server that stores
// deltas is not penalized for what a real pipeline would never send.
// Generating them is cheap, which matters on a machine the server shares.

// fillerLineLen is the length of one filler line, newline included.
const fillerLineLen = 64

// padOverhead is the length of the padding line without its value:
// `  pad: ` and the newline. The value has at least one character.
const padOverhead = len("  pad: \n")

// manifestGen writes the manifests of releases. It is safe for concurrent
// use once built: it only reads its fillers.
type manifestGen struct {
	size    int
	fillers map[string][]byte
}

// newManifestGen prepares a filler of at least size bytes for every
// environment, from seed.
func newManifestGen(size int, envs []string, seed uint64) *manifestGen {
	g := &manifestGen{size: size, fillers: make(map[string][]byte, len(envs))}
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	lines := size/fillerLineLen + 1
	for i, env := range envs {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		buf := make([]byte, 0, lines*fillerLineLen)
		// Plain scalars starting with a letter, as most values of real
		// manifests are: quoted ones cost a YAML parser more.
		for l := range lines {
			buf = fmt.Appendf(buf, "  k%05d: v", l)
			for len(buf)%fillerLineLen < fillerLineLen-1 {
				buf = append(buf, alphabet[rng.IntN(len(alphabet))])
			}
			buf = append(buf, '\n')
		}
		g.fillers[env] = buf
	}
	return g
}

// appendManifest appends the manifest of app's version for env: exactly
// g.size bytes of YAML, unless the header alone is longer.
func (g *manifestGen) appendManifest(dst []byte, app string, version int64, env string) []byte {
	start := len(dst)
	v := strconv.FormatInt(version, 10)
	dst = append(dst, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "...)
	dst = append(dst, app...)
	dst = append(dst, "\n  labels:\n    app.kubernetes.io/version: \""...)
	dst = append(dst, v...)
	dst = append(dst, "\"\ndata:\n  environment: "...)
	dst = append(dst, env...)
	dst = append(dst, "\n  image: registry.example.com/"...)
	dst = append(dst, app...)
	dst = append(dst, ':')
	dst = append(dst, v...)
	dst = append(dst, '\n')
	rest := g.size - (len(dst) - start)
	if rest < padOverhead+1 {
		return dst
	}
	lines := (rest - padOverhead - 1) / fillerLineLen
	dst = append(dst, g.fillers[env][:lines*fillerLineLen]...)
	dst = append(dst, "  pad: "...)
	for range rest - lines*fillerLineLen - padOverhead {
		dst = append(dst, 'x')
	}
	return append(dst, '\n')
}

// sourceCommitID is a made-up, stable 40-hex commit id for a release.
func sourceCommitID(app string, version int64) string {
	sum := sha1.Sum([]byte(app + "@" + strconv.FormatInt(version, 10)))
	return hex.EncodeToString(sum[:])
}
