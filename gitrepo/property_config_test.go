package gitrepo_test

import (
	"strings"

	"github.com/railyard-cd/railyard"
)

// Environment configurations for the export property's generator
// (property_gen_test.go): every kind of setting, and Argo CD settings
// that Kubernetes or YAML refuse.

// environment returns the configuration of an environment.
func (g *propGen) environment() *railyard.PutEnvironment {
	name := g.name(propEnvs)
	var c railyard.EnvironmentConfig
	switch g.weighted(40, 40, 20) {
	case 0:
		c.Upstream = &railyard.Upstream{Latest: true}
		if g.chance(0.15) {
			c.Upstream.Branch = pick(g, "^main$", "release/.*", "(", "ünï.*")
		}
	case 1:
		c.Upstream = &railyard.Upstream{Environment: g.env()}
	}
	if g.chance(0.4) {
		c.EnvironmentGroup = g.name(propGroups)
	}
	if g.chance(0.5) {
		c.ArgoCD = g.argoCD()
	}
	if g.chance(0.25) {
		c.DeployWindows = g.deployWindows()
	}
	if g.chance(0.1) {
		c.BranchRestriction = pick(g, "^main$", "^release/", "[")
	}
	if c.Upstream != nil && g.chance(0.15) {
		c.ReleaseTrains = []railyard.ScheduledTrain{{Schedule: pick(g, "*/30 * * * *", "0 6 * * 1-5", "@hourly"),
			TimeZone: pick(g, "", "Europe/Berlin", "America/New_York"), Team: pick(g, "", propTeams[0])}}
	}
	return &railyard.PutEnvironment{Name: name, Config: c}
}

// deployWindows returns deploy windows, closed or open at any moment.
func (g *propGen) deployWindows() []railyard.DeployWindow {
	var ws []railyard.DeployWindow
	for range 1 + g.rng.IntN(2) {
		ws = append(ws, railyard.DeployWindow{
			Kind:     pick(g, railyard.DeployWindowAllow, railyard.DeployWindowDeny),
			Schedule: pick(g, "0 9 * * 1-5", "0 12 * * *", "@daily", "*/20 * * * *", "61 * * * *"),
			Duration: pick(g, "8h", "1h", "30m", "10m", "0s", "-1h"),
			TimeZone: pick(g, "", "UTC", "Europe/Berlin", "Asia/Kolkata", "Local", "Mars/Base"),
		})
	}
	return ws
}

// argoCD returns Argo CD settings: both layouts, annotations and sync
// options that are ordinary, at Kubernetes' limits, or beyond them.
func (g *propGen) argoCD() *railyard.ArgoCDConfig {
	a := &railyard.ArgoCDConfig{
		Layout: pick(g, "", "", railyard.ArgoCDLayoutPerApplication, railyard.ArgoCDLayoutSingleFile, "flat"),
		Destination: railyard.ArgoCDDestination{
			Name:                 pick(g, "in-cluster", "", "prod-cluster"),
			Server:               pick(g, "", "https://kubernetes.default.svc"),
			Namespace:            pick(g, "", "shop", "Shop Space", "ns-ünï"),
			AppProjectNamespace:  pick(g, "", "argocd"),
			ApplicationNamespace: pick(g, "", "argocd", "apps"),
		},
	}
	if g.avoid["argocd"] {
		a.Destination.Namespace = "shop"
	}
	if a.Destination.Name == "" && a.Destination.Server == "" && g.chance(0.8) {
		a.Destination.Name = "in-cluster"
	}
	if g.chance(0.3) {
		a.SyncWindows = []railyard.ArgoCDSyncWindow{{Kind: pick(g, "allow", "deny"), Schedule: pick(g, "0 22 * * *", "@daily"),
			Duration: pick(g, "1h", "90m"), Applications: pick(g, []string{"*"}, []string{propApps[0]}, nil)}}
	}
	if g.chance(0.3) {
		a.AccessList = []railyard.ArgoCDAccessEntry{{Group: "", Kind: "Namespace"}, {Group: "*", Kind: "*"}}
	}
	if g.chance(0.3) {
		a.IgnoreDifferences = []railyard.ArgoCDIgnoreDifference{{Group: "apps", Kind: "Deployment", JSONPointers: []string{"/spec/replicas"},
			JQPathExpressions: []string{".spec.template.spec.containers[] | select(.name == \"ünï\")"}}}
	}
	if g.chance(0.6) {
		a.ApplicationAnnotations = map[string]string{}
		for range 1 + g.rng.IntN(3) {
			a.ApplicationAnnotations[g.annotationKey()] = g.text(300, true)
		}
	}
	if g.chance(0.5) {
		for range 1 + g.rng.IntN(3) {
			a.SyncOptions = append(a.SyncOptions, g.syncOption())
		}
	}
	return a
}

// annotationKey returns a Kubernetes annotation key: valid, at the
// limits of a qualified name (253-character prefix, 63-character name),
// or one that Kubernetes or YAML refuse.
func (g *propGen) annotationKey() string {
	argo := map[int]string{2: "argocd", 3: "argocd", 4: "argocd", 5: "argocd", 6: "argocd", 7: "argocd"}
	if g.avoid["control"] {
		argo[7] = "control"
	}
	switch g.weighted(g.weights([]int{50, 8, 8, 10, 6, 6, 6, 6}, argo)...) {
	case 0:
		return pick(g, "notifications.argoproj.io/subscribe.on-sync-failed.slack", "example.com/owner", "team")
	case 1:
		return strings.Repeat("p", 63) + ".example.com/" + strings.Repeat("n", 63)
	case 2:
		return strings.Repeat("n", 64)
	case 3:
		return strings.Repeat("k", 2000)
	case 4:
		return pick(g, "a/b/c", "/name", "prefix/", "-leading", "trailing-")
	case 5:
		return pick(g, "ünïcode", "日本", "with space", "tab\tkey")
	case 6:
		return pick(g, "a: b", "#comment", "? q", "[x]", "{y}", "'quoted'", "\"dq\"", "*alias", "&anchor")
	default:
		return pick(g, "nul\x00key", "\x1b[31m", "\xff")
	}
}

// syncOption returns an Argo CD sync option: known ones, and malformed.
func (g *propGen) syncOption() string {
	switch g.weighted(g.weights([]int{60, 15, 15, 10}, map[int]string{1: "argocd", 2: "argocd", 3: "argocd"})...) {
	case 0:
		return pick(g, "CreateNamespace=true", "PruneLast=true", "ServerSideApply=true", "Validate=false", "RespectIgnoreDifferences=true")
	case 1:
		return pick(g, "no-equals", "=value", "Key=", "a=b=c")
	case 2:
		return pick(g, "A=B\nC=D", "Ünï=✓", "Key= spaced ", "x=\x00")
	default:
		return strings.Repeat("O", 1000) + "=true"
	}
}
