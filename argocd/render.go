package argocd

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/railyard-cd/railyard"
)

// Project returns the AppProject of env as YAML. env is expected to have
// passed EnvironmentConfig.Validate; Project checks only what it relies on.
func Project(env *railyard.Environment, opts Options) ([]byte, error) {
	r, err := newRenderer(env, opts)
	if err != nil {
		return nil, err
	}
	return r.project()
}

// Application returns the Application of app in env as YAML. Its cost does
// not grow with the number of applications or environments, so the
// exporter can call it for each application an event touches. The document
// does not depend on the deployed version: it changes only when the
// application appears in env, its team changes, or env's argocd
// configuration changes.
func Application(env *railyard.Environment, app App, opts Options) ([]byte, error) {
	r, err := newRenderer(env, opts)
	if err != nil {
		return nil, err
	}
	return r.application(app)
}

// Files returns every file of env's documents in its layout, keyed by path
// in the manifest repository:
//
//   - per-application (the default): the AppProject in
//     argocd/v1alpha1/<env>/_project.yaml and each Application in
//     argocd/v1alpha1/<env>/<app>.yaml;
//   - single-file: argocd/v1alpha1/<env>.yaml, a multi-document YAML
//     stream of the AppProject and then every Application, sorted by
//     application name (Kuberpult's form).
//
// In the per-application layout apps may be just the applications an
// event touched; in the single-file layout it must be every application
// deployed in env, because the file is rewritten whole. Files does not
// list files to delete: see ApplicationPath and EnvironmentPaths.
func Files(env *railyard.Environment, apps []App, opts Options) (map[string][]byte, error) {
	r, err := newRenderer(env, opts)
	if err != nil {
		return nil, err
	}
	apps = slices.SortedFunc(slices.Values(apps), func(a, b App) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(apps); i++ {
		if apps[i].Name == apps[i-1].Name {
			return nil, fmt.Errorf("argocd: application %q is listed twice for environment %q", apps[i].Name, env.Name)
		}
	}
	project, err := r.project()
	if err != nil {
		return nil, err
	}
	layout := Layout(env)
	files := make(map[string][]byte, len(apps)+1)
	if layout == railyard.ArgoCDLayoutSingleFile {
		stream := project
		for i, app := range apps {
			stream = append(stream, "---\n"...)
			start := len(stream)
			if stream, err = r.appendApplication(stream, app); err != nil {
				return nil, err
			}
			if i == 0 {
				// Sized from the first Application, with slack for longer
				// names, a file of hundreds of kilobytes is allocated once.
				stream = slices.Grow(stream, (len(apps)-1)*(len(stream)-start+4+64))
			}
		}
		files[path.Join(Root, env.Name+".yaml")] = stream
		return files, nil
	}
	files[path.Join(Root, env.Name, ProjectFileName)] = project
	for _, app := range apps {
		doc, err := r.application(app)
		if err != nil {
			return nil, err
		}
		files[path.Join(Root, env.Name, app.Name+".yaml")] = doc
	}
	return files, nil
}

// renderer holds what the documents of one environment share, worked out
// once so that Files does not redo it for every application.
type renderer struct {
	env         string
	opts        Options
	cfg         *railyard.ArgoCDConfig
	appDest     destination
	projectDest destination
	// annotationKeys are the configured annotation keys, sorted, without
	// Railyard's own (which win).
	annotationKeys []string
	// specTail is the end of every Application's spec (destination,
	// syncPolicy, ignoreDifferences): the same for all applications.
	specTail []byte
}

// destination is an Argo CD ApplicationDestination.
type destination struct {
	Name, Server, Namespace string
}

func newRenderer(env *railyard.Environment, opts Options) (*renderer, error) {
	if env == nil {
		return nil, fmt.Errorf("argocd: no environment given")
	}
	if err := railyard.ValidateEnvironmentName(env.Name); err != nil {
		return nil, err
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	cfg := env.Config.ArgoCD
	if cfg == nil {
		cfg = &railyard.ArgoCDConfig{Destination: railyard.ArgoCDDestination{Server: DefaultServer, Namespace: env.Name}}
	}
	switch cfg.Layout {
	case "", railyard.ArgoCDLayoutPerApplication, railyard.ArgoCDLayoutSingleFile:
	default:
		return nil, errUnknownLayout(cfg.Layout)
	}
	d := cfg.Destination
	if d.Name == "" && d.Server == "" {
		return nil, railyard.Errorf(railyard.EINVALID, "argocd.destination of environment %q: set name or server (the cluster Argo CD deploys to)", env.Name).WithField("argocd.destination")
	}
	r := &renderer{env: env.Name, opts: opts, cfg: cfg}
	// Kuberpult's rules: namespace, when set, is the namespace of both
	// documents; otherwise appProjectNamespace is what the AppProject
	// allows and applicationNamespace is where the Applications deploy.
	r.projectDest = destination{Name: d.Name, Server: d.Server, Namespace: firstNonEmpty(d.Namespace, d.AppProjectNamespace, "*")}
	r.appDest = destination{Server: d.Server, Namespace: firstNonEmpty(d.Namespace, d.ApplicationNamespace)}
	if d.Server == "" {
		// Argo CD rejects an Application destination with both name and
		// server, so the Application uses server when there is one (it
		// needs no lookup) and name otherwise. The AppProject lists both:
		// there either one matches.
		r.appDest.Name = d.Name
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.ApplicationAnnotations)) {
		if !isRailyardAnnotation(k) {
			r.annotationKeys = append(r.annotationKeys, k)
		}
	}
	tail, err := r.writeSpecTail()
	if err != nil {
		return nil, err
	}
	r.specTail = tail
	return r, nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
