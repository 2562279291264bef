package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The machine section of the report says what else ran: on a shared
// machine a figure means little without the load average and the CPU the
// server, the load tool and everything else used. Everything here is read
// from /proc (Linux); on other systems the fields stay zero.

// clockTicks is USER_HZ, the unit of CPU times in /proc: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// Machine describes the machine and its load during the measured phase.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpuModel"`
	MemoryMiB int64  `json:"memoryMiB"`
	// LoadAverageStart and LoadAverageEnd are /proc/loadavg's 1, 5 and
	// 15 minute averages when the measured phase started and when the
	// wait for Git ended.
	LoadAverageStart [3]float64 `json:"loadAverageStart"`
	LoadAverageEnd   [3]float64 `json:"loadAverageEnd"`
	// BusyCores is the machine's average number of busy CPUs over that
	// time, every process included (/proc/stat).
	BusyCores float64 `json:"busyCores"`
	// ToolCores is the load tool's own share, its git processes included.
	ToolCores float64 `json:"toolCores"`
	// ServerCores is the server's share, its finished child processes
	// (git) included; 0 without --pid.
	ServerCores float64 `json:"serverCores"`
}

// cpuSnapshot is the CPU time counters at one moment.
type cpuSnapshot struct {
	at time.Time
	// busy and total are /proc/stat's machine-wide ticks.
	busy, total int64
	// tool is this process's CPU time, its waited-for children included.
	tool time.Duration
	// server is the server's CPU time, its waited-for children included.
	server time.Duration
	load   [3]float64
}

// takeCPUSnapshot reads the counters; pid 0 skips the server.
func takeCPUSnapshot(pid int) cpuSnapshot {
	s := cpuSnapshot{at: time.Now()}
	s.busy, s.total, _ = readProcStat()
	s.tool = rusageTime(syscall.RUSAGE_SELF) + rusageTime(syscall.RUSAGE_CHILDREN)
	if pid > 0 {
		s.server, _ = readProcessCPU(pid)
	}
	s.load, _ = readLoadAverage()
	return s
}

// newMachine describes the machine between two snapshots.
func newMachine(start, end cpuSnapshot) *Machine {
	m := &Machine{CPUs: runtime.NumCPU(), LoadAverageStart: start.load, LoadAverageEnd: end.load}
	m.CPUModel, m.MemoryMiB = readCPUModel(), readMemTotalMiB()
	wall := end.at.Sub(start.at).Seconds()
	if wall <= 0 {
		return m
	}
	if ticks := end.total - start.total; ticks > 0 {
		m.BusyCores = round2(float64(end.busy-start.busy) / float64(ticks) * float64(m.CPUs))
	}
	m.ToolCores = round2((end.tool - start.tool).Seconds() / wall)
	m.ServerCores = round2(max(end.server-start.server, 0).Seconds() / wall)
	return m
}

// readProcStat returns the busy and total ticks of all CPUs.
func readProcStat() (busy, total int64, err error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	for i, f := range fields[1:] {
		n, _ := strconv.ParseInt(f, 10, 64)
		// guest and guest_nice are already counted in user and nice.
		if i >= 8 {
			break
		}
		total += n
		// idle (3) and iowait (4) are not busy.
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy, total, nil
}

// readProcessCPU returns a process's user and system time, its
// waited-for children's included (/proc/<pid>/stat fields 14 to 17).
func readProcessCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may contain anything.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// fields[0] is field 3 (state); utime is field 14.
	if len(fields) < 15 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	var ticks int64
	for _, f := range fields[11:15] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// rusageTime is the user and system time of getrusage(who).
func rusageTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readLoadAverage reads the 1, 5 and 15 minute load averages.
func readLoadAverage() ([3]float64, error) {
	var l [3]float64
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return l, err
	}
	fields := strings.Fields(string(data))
	for i := range min(3, len(fields)) {
		l[i], _ = strconv.ParseFloat(fields[i], 64)
	}
	return l, nil
}

// readCPUModel returns the first "model name" of /proc/cpuinfo.
func readCPUModel() string {
	return procField("/proc/cpuinfo", "model name")
}

// readMemTotalMiB returns MemTotal of /proc/meminfo in MiB.
func readMemTotalMiB() int64 {
	kb, _ := strconv.ParseInt(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 10, 64)
	return kb / 1024
}

// procField returns the value of the first "key: value" line of a /proc
// file, "" if there is none.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
