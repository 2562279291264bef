// Package argocd generates the Argo CD documents of the manifest
// repository: one AppProject per environment and one Application per
// application deployed there.
//
// Generation is pure: the functions read their arguments and return bytes,
// they do no I/O and keep no state, so they are safe for concurrent use and
// golden-tested byte for byte. Writing the files into Git is the exporter's
// job (gitrepo); this package only says which paths hold what.
//
// The documents follow what Kuberpult generates, with Railyard's names, so
// that Kuberpult environment configurations keep their meaning. See
// docs/argocd.md for the documents, the layouts and the defaults.
package argocd

import (
	"fmt"
	"path"

	"github.com/railyard-cd/railyard"
)

// Root is the directory of the manifest repository that holds every
// generated document. An app-of-apps Application pointed at it with
// directory.recurse reads both layouts.
const Root = "argocd/v1alpha1"

// ProjectFileName is the name of the AppProject's file in an environment's
// directory (per-application layout). The leading underscore cannot start
// an application name, so it never collides with an Application's file.
const ProjectFileName = "_project.yaml"

// DefaultServer is the destination cluster of an environment without an
// argocd configuration: the cluster Argo CD itself runs in.
const DefaultServer = "https://kubernetes.default.svc"

// Options are the settings that are the same for every environment: where
// Argo CD finds the manifest repository.
type Options struct {
	// RepoURL is the manifest repository as Argo CD clones it. Required:
	// it is the Applications' spec.source.repoURL and the only entry of
	// the AppProjects' spec.sourceRepos.
	RepoURL string
	// TargetRevision is the branch Railyard pushes to. Empty leaves it out,
	// and Argo CD then follows HEAD (the remote's default branch).
	TargetRevision string
}

func (o Options) validate() error {
	if o.RepoURL == "" {
		return fmt.Errorf("argocd: Options.RepoURL must be set: it is every Application's source repository")
	}
	return nil
}

// App is an application deployed in an environment, as far as its
// Application document needs to know.
type App struct {
	// Name is the application's name, a DNS label of at most 39 characters.
	Name string
	// Team becomes the railyard.dev/team label; empty leaves the label out.
	Team string
}

// Layout returns the layout env's documents are written in: the configured
// argocd.layout, or railyard.ArgoCDLayoutPerApplication when there is none.
func Layout(env *railyard.Environment) string {
	if env.Config.ArgoCD == nil || env.Config.ArgoCD.Layout == "" {
		return railyard.ArgoCDLayoutPerApplication
	}
	return env.Config.ArgoCD.Layout
}

// ProjectPath returns the path of the file that holds the AppProject of env
// in layout ("" means per-application).
func ProjectPath(env, layout string) (string, error) {
	if err := railyard.ValidateEnvironmentName(env); err != nil {
		return "", err
	}
	switch layout {
	case "", railyard.ArgoCDLayoutPerApplication:
		return path.Join(Root, env, ProjectFileName), nil
	case railyard.ArgoCDLayoutSingleFile:
		return path.Join(Root, env+".yaml"), nil
	}
	return "", errUnknownLayout(layout)
}

// ApplicationPath returns the path of the file that holds the Application
// of app in env under layout ("" means per-application). In the single-file
// layout every application of the environment shares that file, so adding
// or removing one application means rewriting it whole (Files with every
// application); in the per-application layout it means writing or deleting
// this one file.
func ApplicationPath(env, app, layout string) (string, error) {
	if err := railyard.ValidateEnvironmentName(env); err != nil {
		return "", err
	}
	if err := railyard.ValidateApplicationName(app); err != nil {
		return "", err
	}
	switch layout {
	case "", railyard.ArgoCDLayoutPerApplication:
		return path.Join(Root, env, app+".yaml"), nil
	case railyard.ArgoCDLayoutSingleFile:
		return path.Join(Root, env+".yaml"), nil
	}
	return "", errUnknownLayout(layout)
}

// EnvironmentPaths returns every path either layout may use for env: the
// per-application directory and the single-file file. The exporter removes
// both when an environment is deleted or changes layout, so no stale
// document keeps an Application alive in Argo CD.
func EnvironmentPaths(env string) ([]string, error) {
	if err := railyard.ValidateEnvironmentName(env); err != nil {
		return nil, err
	}
	return []string{path.Join(Root, env), path.Join(Root, env+".yaml")}, nil
}

func errUnknownLayout(layout string) error {
	return railyard.Errorf(railyard.EINVALID, "argocd.layout %q is not valid: use %q or %q",
		layout, railyard.ArgoCDLayoutPerApplication, railyard.ArgoCDLayoutSingleFile).WithField("argocd.layout")
}
