package argocd

import "github.com/railyard-cd/railyard"

// The documents are written field by field in Argo CD's field order, with
// map keys sorted, so the output is deterministic. schema_test.go checks
// every generated document against Argo CD's CRD schemas, which also
// catches a misspelt field name here.

const (
	apiVersion = "argoproj.io/v1alpha1"

	// resourcesFinalizer makes Argo CD delete an Application's resources
	// from the cluster before the Application itself goes away, so that
	// removing an application from an environment in Git cleans up after it.
	resourcesFinalizer = "resources-finalizer.argocd.argoproj.io"

	// Keys Railyard sets on every Application; configuration cannot
	// change them (tools and the importer rely on them).
	annotationApplication = "railyard.dev/application"
	annotationEnvironment = "railyard.dev/environment"
	labelTeam             = "railyard.dev/team"
	// annotationGeneratePaths limits which pushes refresh the Application
	// when Argo CD receives a Git webhook: without it every push to the
	// manifest repository invalidates every Application's manifest cache.
	annotationGeneratePaths = "argocd.argoproj.io/manifest-generate-paths"
)

func isRailyardAnnotation(k string) bool {
	switch k {
	case annotationApplication, annotationEnvironment, annotationGeneratePaths:
		return true
	}
	return false
}

func (r *renderer) project() ([]byte, error) {
	w := &yamlWriter{b: make([]byte, 0, 512)}
	w.str(0, "apiVersion", apiVersion)
	w.str(0, "kind", "AppProject")
	w.mapping(0, "metadata")
	w.str(2, "name", r.env)
	w.mapping(0, "spec")
	w.str(2, "description", "Railyard environment "+r.env)
	w.list(2, "sourceRepos", []string{r.opts.RepoURL})
	w.mapping(2, "destinations")
	w.item(4)
	writeDestination(w, 6, r.projectDest)
	if len(r.cfg.AccessList) > 0 {
		w.mapping(2, "clusterResourceWhitelist")
		for _, e := range r.cfg.AccessList {
			w.item(4)
			// group is required by the CRD even when it is "" (the core group).
			w.str(6, "group", e.Group)
			w.str(6, "kind", e.Kind)
		}
	}
	if len(r.cfg.SyncWindows) > 0 {
		w.mapping(2, "syncWindows")
		for _, sw := range r.cfg.SyncWindows {
			apps := sw.Applications
			if len(apps) == 0 {
				// A window that names no application, namespace or cluster
				// matches nothing in Argo CD; Kuberpult means "all" by it.
				apps = []string{"*"}
			}
			w.item(4)
			w.str(6, "kind", sw.Kind)
			w.str(6, "schedule", sw.Schedule)
			w.str(6, "duration", sw.Duration)
			w.list(6, "applications", apps)
			// Manual syncs stay possible in a deny window: windows stop
			// automation, people can always deploy (as in Kuberpult).
			w.boolean(6, "manualSync", true)
		}
	}
	if w.err != nil {
		return nil, w.err
	}
	return w.b, nil
}

func (r *renderer) application(app App) ([]byte, error) {
	return r.appendApplication(make([]byte, 0, 768+len(r.specTail)), app)
}

// appendApplication appends the Application of app to b, so the
// single-file layout writes every document straight into one buffer.
func (r *renderer) appendApplication(b []byte, app App) ([]byte, error) {
	if err := railyard.ValidateApplicationName(app.Name); err != nil {
		return nil, err
	}
	if app.Team != "" {
		if err := railyard.ValidateTeamName(app.Team); err != nil {
			return nil, err
		}
	}
	sourcePath := "environments/" + r.env + "/applications/" + app.Name + "/manifests"
	w := &yamlWriter{b: b}
	w.str(0, "apiVersion", apiVersion)
	w.str(0, "kind", "Application")
	w.mapping(0, "metadata")
	w.str(2, "name", r.env+"-"+app.Name)
	if app.Team != "" {
		w.mapping(2, "labels")
		w.str(4, labelTeam, app.Team)
	}
	w.mapping(2, "annotations")
	// Railyard's keys in sorted order, merged into the sorted configured ones.
	own := [...][2]string{
		{annotationGeneratePaths, "/" + sourcePath},
		{annotationApplication, app.Name},
		{annotationEnvironment, r.env},
	}
	keys := r.annotationKeys
	for _, kv := range own {
		for len(keys) > 0 && keys[0] < kv[0] {
			w.str(4, keys[0], r.cfg.ApplicationAnnotations[keys[0]])
			keys = keys[1:]
		}
		w.str(4, kv[0], kv[1])
	}
	for _, k := range keys {
		w.str(4, k, r.cfg.ApplicationAnnotations[k])
	}
	w.list(2, "finalizers", []string{resourcesFinalizer})
	w.mapping(0, "spec")
	w.str(2, "project", r.env)
	w.mapping(2, "source")
	w.str(4, "repoURL", r.opts.RepoURL)
	w.str(4, "path", sourcePath)
	w.optional(4, "targetRevision", r.opts.TargetRevision)
	if w.err != nil {
		return nil, w.err
	}
	return append(w.b, r.specTail...), nil
}

// writeSpecTail writes the part of an Application's spec that is the same
// for every application of the environment.
func (r *renderer) writeSpecTail() ([]byte, error) {
	w := &yamlWriter{b: make([]byte, 0, 512)}
	w.mapping(2, "destination")
	writeDestination(w, 4, r.appDest)
	w.mapping(2, "syncPolicy")
	w.mapping(4, "automated")
	w.boolean(6, "prune", true)
	w.boolean(6, "selfHeal", true)
	// allowEmpty lets an undeploy release (empty manifests) prune
	// everything; Argo CD refuses to sync to nothing without it.
	w.boolean(6, "allowEmpty", true)
	w.list(4, "syncOptions", r.cfg.SyncOptions)
	if len(r.cfg.IgnoreDifferences) > 0 {
		w.mapping(2, "ignoreDifferences")
		for _, d := range r.cfg.IgnoreDifferences {
			w.item(4)
			w.optional(6, "group", d.Group)
			w.str(6, "kind", d.Kind)
			w.optional(6, "name", d.Name)
			w.optional(6, "namespace", d.Namespace)
			w.list(6, "jsonPointers", d.JSONPointers)
			w.list(6, "jqPathExpressions", d.JQPathExpressions)
			w.list(6, "managedFieldsManagers", d.ManagedFieldsManagers)
		}
	}
	if w.err != nil {
		return nil, w.err
	}
	return w.b, nil
}

func writeDestination(w *yamlWriter, indent int, d destination) {
	w.optional(indent, "name", d.Name)
	w.optional(indent, "server", d.Server)
	w.optional(indent, "namespace", d.Namespace)
}
