package ui_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	railyard "github.com/railyard-cd/railyard"
)

// TestScreenshots writes the screenshots of docs/ui.md into docs/images
// when RAILYARD_SCREENSHOTS=1:
//
//	RAILYARD_SCREENSHOTS=1 go test ./ui -run TestScreenshots
func TestScreenshots(t *testing.T) {
	if os.Getenv("RAILYARD_SCREENSHOTS") != "1" {
		t.Skip("set RAILYARD_SCREENSHOTS=1 to write docs/images")
	}
	f := newFixture(t).seed()
	f.seedMore()
	ctx := tab(t)
	browserIdentify(t, ctx, f, "/")
	dir := filepath.Join("..", "..", "docs", "images")
	shots := []struct {
		file, path string
		width      int64
		height     int64
		dark       bool
	}{
		{"overview.png", "/", 1280, 640, false},
		{"overview-dark.png", "/", 1280, 640, true},
		{"application.png", "/apps/checkout", 1280, 1180, false},
		{"release-train.png", "/envs/de-prod?team=#train", 1280, 820, false},
	}
	for _, s := range shots {
		scheme := "light"
		if s.dark {
			scheme = "dark"
		}
		run(t, ctx, "emulate "+scheme,
			chromedp.EmulateViewport(s.width, s.height),
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
				return err
			}),
			chromedp.Navigate(f.srv.URL+s.path),
			waitJS(`document.readyState === "complete"`, 5*time.Second))
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, s.file), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// seedMore adds applications and moves versions on to production, so
// that the screenshots show a lived-in installation.
func (f *fixture) seedMore() {
	f.t.Helper()
	f.release("inventory", 12, "3.4.0", "shop", "1111111aaaaaaa", "Stock by warehouse")
	f.release("notifications", 7, "0.9.2", "platform", "2222222bbbbbbb", "Batch e-mails")
	f.release("payments-api", 40, "5.1.0", "payments", "3333333ccccccc", "Card tokens")
	f.release("search", 6, "", "", "", "")
	f.advance(20 * time.Minute)
	f.must(bob, &railyard.ReleaseTrain{Environment: "staging"})
	f.advance(3 * time.Hour)
	f.must(bob, &railyard.ReleaseTrain{Group: "prod"})
	f.advance(40 * time.Minute)
	f.release("payments-api", 41, "5.2.0", "payments", "4444444ddddddd", "3-D Secure 2")
	f.release("notifications", 8, "0.9.3", "platform", "5555555eeeeeee", "Retry on 429")
	f.advance(10 * time.Minute)
	f.must(alice, &railyard.ReleaseTrain{Environment: "staging", Team: "platform"})
	f.advance(25 * time.Minute)
}
