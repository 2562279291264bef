package main

import (
	"encoding/json"
	"testing"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/internal/golden"
)

// promotionEnvironments is a pipeline with a group: production is closed
// to automation from 09:00 to 17:00 Berlin time on weekdays (testNow,
// 09:00 UTC on a Friday, is 10:00 there), production-jp takes only
// releases from main, adhoc has no upstream.
const promotionEnvironments = `- name: development
  config: {upstream: {latest: true}}
- name: staging
  config: {upstream: {environment: development}}
- name: production
  config:
    upstream: {environment: staging}
    environmentGroup: prod
    deployWindows:
      - {kind: deny, schedule: "0 9 * * 1-5", duration: 8h, timeZone: Europe/Berlin}
- name: production-jp
  config:
    upstream: {environment: staging}
    environmentGroup: prod
    branchRestriction: ^main$
- name: adhoc
  config: {environmentGroup: prod}
`

// TestPromotion walks release trains, promotion and rollback through the
// CLI against a real server and compares the session with a golden
// transcript.
func TestPromotion(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	envs := writeFile(t, dir, "environments.yaml", promotionEnvironments)
	m := writeFile(t, dir, "m.yaml", manifest("1"))
	all := []string{"--manifest", "development=" + m, "--manifest", "staging=" + m, "--manifest", "production=" + m, "--manifest", "production-jp=" + m}
	tr := &transcript{c: newCLI(t, srv.URL), dir: dir}

	tr.must(0, "env", "apply", "-f", envs)
	tr.must(0, append([]string{"release", "checkout", "--team", "payments", "--source-branch", "main"}, all...)...)
	tr.must(0, append([]string{"release", "cart", "--team", "shop", "--source-branch", "feature/cart"}, all...)...)
	tr.must(0, "release", "search", "--team", "discovery", "--source-branch", "main", "--manifest", "development="+m, "--manifest", "staging="+m)
	tr.must(0, "train", "staging", "--dry-run")
	tr.must(0, "train", "staging")
	tr.must(0, "train", "staging")
	tr.must(0, "lock", "team", "payments", "audit", "--env", "production-jp", "-m", "Quarterly audit")
	tr.must(0, "train", "prod", "--dry-run")
	tr.must(0, "train", "prod", "--team", "payments")
	tr.must(0, "train", "prod", "--group")
	tr.must(exitError, "train", "nowhere")
	tr.must(exitError, "train", "adhoc")
	tr.must(exitError, "train", "staging", "--team", "nobody")

	tr.must(0, append([]string{"release", "checkout", "--source-branch", "main"}, all...)...)
	tr.must(0, "promote", "checkout", "--to", "staging", "--dry-run")
	tr.must(0, "promote", "checkout", "--to", "staging")
	tr.must(0, "promote", "checkout", "--to", "staging")
	tr.must(0, "promote", "checkout", "--to", "production")
	tr.must(0, "promote", "cart", "--to", "production-jp")
	tr.must(exitError, "promote", "checkout", "--to", "adhoc")

	tr.must(0, "rollback", "checkout", "--env", "staging")
	tr.must(exitError, "rollback", "checkout", "--env", "staging")
	tr.must(0, "rollback", "checkout", "--env", "staging", "--to", "2")
	tr.must(exitError, "deploy", "checkout", "1", "--env", "production")
	tr.must(0, "deploy", "checkout", "1", "--env", "production", "--lock-behavior", "ignore")
	tr.must(0, "deploy", "checkout", "2", "--env", "production", "--lock-behavior", "ignore")
	tr.must(exitError, "rollback", "checkout", "--env", "production")
	tr.must(0, "rollback", "checkout", "--env", "production", "--lock-behavior", "queue")
	tr.must(0, "rollback", "checkout", "--env", "production", "--lock-behavior", "ignore")
	tr.must(exitError, "rollback", "cart", "--env", "production-jp", "--to", "1", "--lock-behavior", "ignore")
	tr.must(0, "history", "--kind", "release-train")
	tr.must(0, "history", "--kind", "rollback")
	tr.must(0, "env", "get", "production")
	golden.Equal(t, "testdata/promotion.golden", tr.b.String())
}

// TestPromotion_StructuredOutput checks that -o json prints the API's
// result of a train, a prognosis and a rollback.
func TestPromotion_StructuredOutput(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	c := newCLI(t, srv.URL)
	c.ok("env", "apply", "-f", writeFile(t, dir, "envs.yaml", environmentsYAML))
	m := writeFile(t, dir, "m.yaml", manifest("1"))
	c.ok("release", "checkout", "--manifest", "development="+m, "--manifest", "staging="+m)

	var plan railyard.Result
	decode(t, c.ok("train", "staging", "--dry-run", "-o", "json"), &plan)
	if plan.Kind != railyard.KindReleaseTrain || plan.Event != nil || plan.Train == nil || !plan.Train.DryRun || plan.Train.Deployed != 1 {
		t.Errorf("prognosis = %+v", plan)
	}
	var res railyard.Result
	decode(t, c.ok("train", "staging", "-o", "json", "--ci-link", "https://ci.example.com/1"), &res)
	if res.Event == nil || res.Train == nil || res.Train.DryRun || res.Train.Environments[0].Applications[0].Outcome != railyard.OutcomeDeployed {
		t.Errorf("train = %+v", res)
	}
	var payload railyard.ReleaseTrain
	if err := json.Unmarshal(res.Event.Payload, &payload); err != nil || payload.CILink != "https://ci.example.com/1" {
		t.Errorf("the ciLink is not in the event's payload: %s", res.Event.Payload)
	}
	c.ok("release", "checkout", "--manifest", "development="+m, "--manifest", "staging="+m)
	var promoted railyard.Result
	decode(t, c.ok("promote", "checkout", "--to", "staging", "-o", "json"), &promoted)
	if promoted.Train == nil || promoted.Train.Application != "checkout" || promoted.Outcome != railyard.OutcomeDeployed {
		t.Errorf("promote = %+v", promoted)
	}
	golden.Equal(t, "testdata/rollback_yaml.golden", c.ok("rollback", "checkout", "--env", "staging", "-o", "yaml"))
}
