package argocd_test

import (
	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/argocd"
)

// testOptions is the manifest repository every test renders for.
var testOptions = argocd.Options{RepoURL: "https://git.example.com/platform/manifests.git", TargetRevision: "main"}

// goldenCase is one environment and its applications whose Files output
// is kept byte for byte in testdata/golden/<name>/.
type goldenCase struct {
	name string
	env  *railyard.Environment
	apps []argocd.App
}

// goldenCases returns new values on every call, so a test may change them.
func goldenCases() []goldenCase {
	// Listed out of order on purpose: the output must not depend on it.
	three := []argocd.App{
		{Name: "search"}, // no team: no label
		{Name: "checkout", Team: "payments"},
		{Name: "cart", Team: "shop-frontend"},
	}
	return []goldenCase{
		{
			name: "no-config",
			env:  &railyard.Environment{Name: "development"},
			apps: []argocd.App{{Name: "checkout", Team: "payments"}, {Name: "search"}},
		},
		{name: "full-config-per-application", env: fullEnvironment("production", railyard.ArgoCDLayoutPerApplication), apps: three},
		{name: "full-config-single-file", env: fullEnvironment("production", railyard.ArgoCDLayoutSingleFile), apps: three},
		{
			name: "split-namespaces",
			env: &railyard.Environment{Name: "staging", Config: railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{
				Destination: railyard.ArgoCDDestination{Name: "staging-cluster", AppProjectNamespace: "shop-*", ApplicationNamespace: "shop-staging"},
			}}},
			apps: []argocd.App{{Name: "checkout", Team: "payments"}},
		},
		{
			name: "single-file-no-apps",
			env: &railyard.Environment{Name: "qa", Config: railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{
				Layout:      railyard.ArgoCDLayoutSingleFile,
				Destination: railyard.ArgoCDDestination{Server: argocd.DefaultServer, Namespace: "qa"},
			}}},
		},
	}
}

// fullEnvironment sets every field of the argocd configuration.
func fullEnvironment(name, layout string) *railyard.Environment {
	return &railyard.Environment{Name: name, Config: railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{
		Layout: layout,
		Destination: railyard.ArgoCDDestination{
			Name:                 "prod-cluster",
			Server:               "https://prod.k8s.example.com:6443",
			Namespace:            "shop",
			AppProjectNamespace:  "shop-*",
			ApplicationNamespace: "shop-apps",
		},
		SyncWindows: []railyard.ArgoCDSyncWindow{
			{Kind: "deny", Schedule: "0 22 * * *", Duration: "8h", Applications: []string{name + "-*"}},
			{Kind: "allow", Schedule: "0 6 * * 1-5", Duration: "1h"},
		},
		AccessList: []railyard.ArgoCDAccessEntry{
			{Group: "", Kind: "Namespace"},
			{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"},
		},
		IgnoreDifferences: []railyard.ArgoCDIgnoreDifference{{
			Group:                 "apps",
			Kind:                  "Deployment",
			Name:                  "web",
			Namespace:             "shop",
			JSONPointers:          []string{"/spec/replicas"},
			JQPathExpressions:     []string{`.spec.template.spec.initContainers[] | select(.name == "istio-init")`},
			ManagedFieldsManagers: []string{"kube-controller-manager"},
		}},
		ApplicationAnnotations: map[string]string{
			"notifications.argoproj.io/subscribe.on-sync-failed.slack": "deploys",
			"example.com/owner": "Platform Team: #platform",
		},
		SyncOptions: []string{"CreateNamespace=true", "ServerSideApply=true"},
	}}}
}
