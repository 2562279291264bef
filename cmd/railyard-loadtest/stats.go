package main

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Latency is a summary of durations in milliseconds. Percentiles use the
// nearest-rank method: p is the smallest sample at least p% of the
// samples are no larger than, always one of the samples.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// sorted samples; 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// summarize sorts d in place and summarizes it; nil for no samples.
func summarize(d []time.Duration) *Latency {
	if len(d) == 0 {
		return nil
	}
	slices.Sort(d)
	return &Latency{
		P50: ms(percentile(d, 50)),
		P90: ms(percentile(d, 90)),
		P99: ms(percentile(d, 99)),
		Max: ms(d[len(d)-1]),
	}
}

// ms is d in milliseconds, rounded to microseconds.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

// transportError is the error key of a request that got no answer.
const transportError = "transport"

// opStats collects the outcomes of one operation. It is not safe for
// concurrent use: every worker keeps its own, merged at the end.
type opStats struct {
	latencies []time.Duration
	ok        int
	// errors counts failures by status code ("409") or transportError.
	errors map[string]int
	// samples keeps the first answer of each kind of failure.
	samples map[string]string
}

// record adds the outcome of one request.
func (s *opStats) record(a answer, elapsed time.Duration) {
	s.latencies = append(s.latencies, elapsed)
	if a.ok() {
		s.ok++
		return
	}
	// An answer cut off while it was read counts as no answer.
	key, sample := transportError, ""
	if a.err != nil {
		sample = a.err.Error()
	} else {
		key, sample = strconv.Itoa(a.status), string(a.body)
	}
	if s.errors == nil {
		s.errors, s.samples = map[string]int{}, map[string]string{}
	}
	s.errors[key]++
	if _, ok := s.samples[key]; !ok {
		s.samples[key] = truncateText(sample, maxErrorBody)
	}
}

// merge adds o's outcomes to s.
func (s *opStats) merge(o *opStats) {
	s.latencies = append(s.latencies, o.latencies...)
	s.ok += o.ok
	for k, n := range o.errors {
		if s.errors == nil {
			s.errors, s.samples = map[string]int{}, map[string]string{}
		}
		s.errors[k] += n
		if _, ok := s.samples[k]; !ok {
			s.samples[k] = o.samples[k]
		}
	}
}

// errorCount is the number of failed requests.
func (s *opStats) errorCount() int {
	n := 0
	for _, c := range s.errors {
		n += c
	}
	return n
}

// OpReport is the report of one operation.
type OpReport struct {
	// Requests is the number of requests answered (or failed) in the
	// measured phase; OK those answered 200 or 201.
	Requests int `json:"requests"`
	OK       int `json:"ok"`
	// PerSecond is Requests over the measured duration.
	PerSecond float64 `json:"perSecond"`
	// LatencyMs covers every request, failed ones included; null when
	// there were none.
	LatencyMs *Latency `json:"latencyMs"`
	// Errors counts failures by HTTP status code, or "transport" for
	// requests that got no answer; ErrorSamples holds the first answer
	// of each.
	Errors       map[string]int    `json:"errors"`
	ErrorSamples map[string]string `json:"errorSamples,omitempty"`
}

// report summarizes s over a phase of seconds.
func (s *opStats) report(seconds float64) OpReport {
	r := OpReport{Requests: len(s.latencies), OK: s.ok, Errors: map[string]int{}}
	if seconds > 0 {
		r.PerSecond = round2(float64(r.Requests) / seconds)
	}
	maps.Copy(r.Errors, s.errors)
	if len(s.samples) > 0 {
		r.ErrorSamples = maps.Clone(s.samples)
	}
	r.LatencyMs = summarize(slices.Clone(s.latencies))
	return r
}

// round2 rounds to two decimals.
func round2(f float64) float64 { return math.Round(f*100) / 100 }

// truncateText shortens s to n bytes at most, marking the cut. It cuts
// at a rune boundary, as railyard.Truncate does (the load tool imports
// nothing of Railyard, so that it can measure any Kuberpult-compatible
// server).
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
