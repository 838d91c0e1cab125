// Command ertmp is the ertmp toolbox: a live RTMP server and the everyday
// tools around it.
//
//	ertmp serve [-config FILE] [-listen :1935]    the live server
//	ertmp publish [-re] [-loop N] FILE.flv URL   push a file
//	ertmp play URL [-o FILE.flv] [-t DURATION]   pull a stream
//	ertmp probe [-json] FILE.flv|URL             report streams
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `ertmp: RTMP for Go

usage: ertmp COMMAND [flags] [args]

commands:
  serve     the live server: publishers in, any number of players out (rtmp://host/app/key)
  publish   push an FLV file to an RTMP server
  play      pull a stream from an RTMP server, optionally into an FLV file
  bench     load a server: a synthetic stream to many players; throughput, loss, lag, CPU/Gbit
  probe     report the streams, codecs and packets of an FLV file or an RTMP stream
  version   print the version

Run "ertmp COMMAND -h" for a command's flags.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "devel"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status, so tests
// run commands in-process.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "probe":
		return probeCmd(args[1:], stdout, stderr)
	case "publish":
		return publishCmd(args[1:], stdout, stderr)
	case "play":
		return playCmd(args[1:], stdout, stderr)
	case "serve":
		return serveCmd(args[1:], stdout, stderr)
	case "bench":
		return benchCmd(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "ertmp", version)
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "ertmp: unknown command %q\n\n%s", args[0], usage)
	return 2
}
