package argocd_test

import (
	"fmt"
	"testing"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/argocd"
)

// BenchmarkApplication is the per-event cost in the per-application
// layout: one Application of an environment with every setting.
func BenchmarkApplication(b *testing.B) {
	env := fullEnvironment("production", "")
	app := argocd.App{Name: "checkout", Team: "payments"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := argocd.Application(env, app, testOptions); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilesSingleFile1000 is the per-event cost in the single-file
// layout with 1,000 applications: the whole file is rendered again.
func BenchmarkFilesSingleFile1000(b *testing.B) {
	benchmarkFiles(b, railyard.ArgoCDLayoutSingleFile, 1000)
}

// BenchmarkFilesPerApplication1000 renders a whole environment of 1,000
// applications file by file, as a full export or a config change does.
func BenchmarkFilesPerApplication1000(b *testing.B) {
	benchmarkFiles(b, railyard.ArgoCDLayoutPerApplication, 1000)
}

func benchmarkFiles(b *testing.B, layout string, n int) {
	env := fullEnvironment("production", layout)
	apps := make([]argocd.App, n)
	for i := range apps {
		apps[i] = argocd.App{Name: fmt.Sprintf("service-%04d", i), Team: "team-" + fmt.Sprint(i%20)}
	}
	b.ReportAllocs()
	var size int
	for b.Loop() {
		files, err := argocd.Files(env, apps, testOptions)
		if err != nil {
			b.Fatal(err)
		}
		size = 0
		for _, f := range files {
			size += len(f)
		}
	}
	b.ReportMetric(float64(size), "bytes/env")
}
