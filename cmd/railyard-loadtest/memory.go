package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// memorySampleInterval is how often the server's resident memory is read.
const memorySampleInterval = 200 * time.Millisecond

// procMemory is what /proc/<pid>/status says about memory, in KiB.
type procMemory struct {
	rss int64 // VmRSS: resident now
	hwm int64 // VmHWM: the peak resident size since the process started
}

// readProcMemory reads VmRSS and VmHWM of a process (Linux only).
func readProcMemory(pid int) (procMemory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procMemory{}, err
	}
	defer f.Close()
	var m procMemory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			m.rss = n
		case "VmHWM":
			m.hwm = n
		}
	}
	if err := sc.Err(); err != nil {
		return procMemory{}, err
	}
	if m.rss == 0 && m.hwm == 0 {
		return procMemory{}, fmt.Errorf("/proc/%d/status has no VmRSS or VmHWM", pid)
	}
	return m, nil
}

// memorySampler keeps the largest resident size it has seen of a
// process. Its methods are safe for concurrent use.
type memorySampler struct {
	pid     int
	peakKiB atomic.Int64
	lastKiB atomic.Int64
	errs    atomic.Int64
}

// run samples until ctx is done.
func (s *memorySampler) run(ctx context.Context) {
	tick := time.NewTicker(memorySampleInterval)
	defer tick.Stop()
	for {
		s.sample()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sample reads the process's memory once.
func (s *memorySampler) sample() {
	m, err := readProcMemory(s.pid)
	if err != nil {
		s.errs.Add(1)
		return
	}
	s.lastKiB.Store(m.rss)
	for {
		old := s.peakKiB.Load()
		if m.rss <= old || s.peakKiB.CompareAndSwap(old, m.rss) {
			return
		}
	}
}

// Memory is the server's memory as the report gives it, in MiB.
type Memory struct {
	PID int `json:"pid"`
	// PeakRSSMiB is the largest resident size sampled (every 200 ms)
	// during the measured phase.
	PeakRSSMiB float64 `json:"peakRssMiB"`
	// VmHWMMiB is the kernel's peak resident size of the process over its
	// whole life (prepopulation and setup included), read at the end;
	// null if the process was gone.
	VmHWMMiB *float64 `json:"vmHwmMiB"`
	// SampleErrors counts samples that could not be read.
	SampleErrors int64 `json:"sampleErrors"`
}

// report summarizes the samples and reads the process's VmHWM.
func (s *memorySampler) report() *Memory {
	s.sample()
	m := &Memory{PID: s.pid, PeakRSSMiB: mib(s.peakKiB.Load()), SampleErrors: s.errs.Load()}
	if pm, err := readProcMemory(s.pid); err == nil && pm.hwm > 0 {
		hwm := mib(pm.hwm)
		m.VmHWMMiB = &hwm
	}
	return m
}

// mib converts KiB to MiB, rounded to a tenth.
func mib(kib int64) float64 {
	return float64(kib*10/1024) / 10
}
