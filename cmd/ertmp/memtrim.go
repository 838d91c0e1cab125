package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// trimFloor is the free heap memory below which trimMemory leaves the
// runtime's scavenger to it.
const trimFloor = 4 << 20

// trimMemory gives the heap's free memory back to the OS when there is at
// least trimFloor of it and a quarter as much as the heap's objects take. It
// returns the free bytes it found, and whether it gave them back.
func trimMemory() (free uint64, trimmed bool) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	free, objects := s[0].Value.Uint64(), s[1].Value.Uint64()
	if free < trimFloor || free < objects/4 {
		return free, false
	}
	debug.FreeOSMemory()
	return free, true
}

// trimMemoryEvery calls trimMemory every period until ctx ends.
func trimMemoryEvery(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if free, ok := trimMemory(); ok {
				log.Debug("ertmp: free heap memory given back to the OS", "bytes", free, "reason", "at least 4 MiB and a quarter of the heap in use")
			}
		}
	}
}
