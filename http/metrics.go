package http

import (
	"context"
	"log/slog"
	nethttp "net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	railyard "github.com/railyard-cd/railyard"
)

// plainText marks an answer in Prometheus' text exposition format.
type plainText struct{}

var metricsDoc = &operation{
	Tag:     "operations",
	Summary: "Prometheus metrics",
	Description: "Export lag (railyard_export_pending_events, railyard_export_oldest_pending_seconds, " +
		"railyard_export_last_exported_event_id, railyard_export_up), export health (railyard_export_state, " +
		"railyard_export_consecutive_failures, railyard_export_panics_total, railyard_export_git_timeouts_total), " +
		"the newest event id (railyard_last_event_id), " +
		"request counts and durations by route (railyard_http_requests_total, railyard_http_request_duration_seconds), " +
		"and the Go runtime's and process's metrics.",
	Responses: []response{{200, "Metrics in Prometheus' text format.", plainText{}}},
}

// metrics are the server's Prometheus collectors, in a registry of its
// own so that several servers (in tests) never collide.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// refused counts the requests the guard refused, by reason.
	refused *prometheus.CounterVec
	handler nethttp.Handler
}

// newMetrics registers the collectors. Export gauges are read at scrape
// time from the export status, so they are never stale.
func (s *Server) newMetrics() *metrics {
	m := &metrics{registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "railyard_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
	}, []string{"route", "method", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "railyard_http_request_duration_seconds", Help: "HTTP request duration by route pattern and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method"})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "railyard_http_refused_requests_total",
		Help: "Requests refused before they reached a handler or while their body was read, by reason: host, cross_origin, body_timeout, body_memory.",
	}, []string{"reason"})
	for _, reason := range []string{refusedHost, refusedCrossOrigin, refusedBodyTimeout, refusedBodyMemory} {
		m.refused.WithLabelValues(reason)
	}
	bodyBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "railyard_http_request_body_bytes",
		Help: "Bytes of request bodies held by requests now, counted against --max-body-memory.",
	}, func() float64 { return float64(s.budget.held()) })
	m.registry.MustRegister(m.requests, m.duration, m.refused, bodyBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&exportCollector{status: s.exportStatus, logger: s.opts.Logger})
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return m
}

// handleMetrics answers GET /metrics.
func (s *Server) handleMetrics(w nethttp.ResponseWriter, r *nethttp.Request) error {
	s.metrics.handler.ServeHTTP(w, r)
	return nil
}

// observe records one finished request.
func (m *metrics) observe(route, method string, status int, took time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(took.Seconds())
}

// exportCollector turns the export status into gauges at scrape time.
type exportCollector struct {
	status ExportStatusFunc
	logger *slog.Logger
}

var (
	descPending  = prometheus.NewDesc("railyard_export_pending_events", "Events not yet in the manifest repository.", nil, nil)
	descOldest   = prometheus.NewDesc("railyard_export_oldest_pending_seconds", "Age of the oldest event not yet in the manifest repository.", nil, nil)
	descExported = prometheus.NewDesc("railyard_export_last_exported_event_id", "Newest event the manifest repository contains.", nil, nil)
	descLast     = prometheus.NewDesc("railyard_last_event_id", "Newest event.", nil, nil)
	descUp       = prometheus.NewDesc("railyard_export_up", "1 if the last export attempt succeeded (or export is disabled), else 0.", nil, nil)
	descState    = prometheus.NewDesc("railyard_export_state", "1 for the export's current state (ok, retrying, stalled, stopped), 0 for the others.", []string{"state"}, nil)
	descFailures = prometheus.NewDesc("railyard_export_consecutive_failures", "Export attempts that failed since the last success.", nil, nil)
	descPanics   = prometheus.NewDesc("railyard_export_panics_total", "Export attempts ended by a recovered panic since the server started.", nil, nil)
	descTimeouts = prometheus.NewDesc("railyard_export_git_timeouts_total", "Git commands of the export killed at their deadline (--git-timeout) since the server started.", nil, nil)
)

// exportStates are the values of railyard_export_state's label.
var exportStates = []string{railyard.ExportStateOK, railyard.ExportStateRetrying, railyard.ExportStateStalled, railyard.ExportStateStopped}

// Describe implements prometheus.Collector.
func (c *exportCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPending, descOldest, descExported, descLast, descUp, descState, descFailures, descPanics, descTimeouts} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *exportCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.status(ctx)
	if err != nil {
		c.logger.Error("metrics: export status", "error", err)
		return
	}
	up := 1.0
	if st.LastError != "" {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(descLast, prometheus.GaugeValue, float64(st.LastEventID))
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up)
	if !st.Enabled {
		return
	}
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(st.PendingEvents))
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, st.OldestPendingSeconds)
	ch <- prometheus.MustNewConstMetric(descExported, prometheus.GaugeValue, float64(st.LastExportedEventID))
	for _, state := range exportStates {
		v := 0.0
		if st.State == state {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, v, state)
	}
	ch <- prometheus.MustNewConstMetric(descFailures, prometheus.GaugeValue, float64(st.ConsecutiveFailures))
	ch <- prometheus.MustNewConstMetric(descPanics, prometheus.CounterValue, float64(st.Panics))
	ch <- prometheus.MustNewConstMetric(descTimeouts, prometheus.CounterValue, float64(st.GitTimeouts))
}
