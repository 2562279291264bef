package main

import (
	"os"
	"runtime"
	"testing"
)

func TestProcReaders(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	m, err := readProcMemory(os.Getpid())
	if err != nil || m.rss <= 0 || m.hwm < m.rss/2 {
		t.Errorf("readProcMemory(self) = %+v, %v", m, err)
	}
	if _, err := readProcMemory(-1); err == nil {
		t.Error("readProcMemory(-1) succeeded")
	}
	start := takeCPUSnapshot(os.Getpid())
	// Burn a little CPU so the counters move.
	x := 0
	for i := range 20_000_000 {
		x ^= i
	}
	_ = x
	end := takeCPUSnapshot(os.Getpid())
	if end.server <= 0 || end.tool < end.server/2 || end.total <= start.total {
		t.Errorf("snapshots: server %v, tool %v, total ticks %d → %d", end.server, end.tool, start.total, end.total)
	}
	mach := newMachine(start, end)
	if mach.CPUs != runtime.NumCPU() || mach.MemoryMiB <= 0 || mach.LoadAverageEnd[0] < 0 {
		t.Errorf("machine = %+v", mach)
	}
}
