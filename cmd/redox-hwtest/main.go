// Command redox-hwtest is the front end of the harness: a thin layer over the packages.
// Each subcommand lives in its own file and registers itself in init(), so subcommands
// can be added without touching this file.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	_ "github.com/redox-hwtest/redox-hwtest/hosts/all"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// command is one subcommand. run returns the process exit status, which each
// subcommand documents (run's is harness/lab/schedule.ExitStatus: 0 passed, 1 a check failed
// against the image, 2 bad input or a harness error, 3 only lab failures, 4 interrupted;
// the others use 0, 1 for a finding and 2 for bad input, fetch also 3).
type command struct {
	summary string
	run     func(args []string) int
}

var commands = map[string]command{}

func register(name, summary string, run func(args []string) int) {
	if _, dup := commands[name]; dup {
		panic("duplicate subcommand " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: redox-hwtest <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
}

// loadMatrix is every subcommand's start-up: the matrix checked against the host kinds
// linked here (hosts/all) and the lab's endpoints, then the -filter / -shard selection.
func loadMatrix(path, filter, shard string) (*matrix.Matrix, matrix.Filter, error) {
	m, err := hosts.LoadMatrix(path, matrix.LoadOptions{})
	if err != nil {
		return nil, matrix.Filter{}, err
	}
	f, err := matrix.ParseSelection(filter, shard)
	if err != nil {
		return nil, matrix.Filter{}, err
	}
	return m, f, nil
}

// matrixCommand is the flag set of a command that boots from the matrix, with its -matrix
// flag (and -filter when filtered).
type matrixCommand struct {
	fs             *flag.FlagSet
	path, selector *string
}

// newMatrixCommand is the flag set of the subcommand name; the caller adds its own flags.
func newMatrixCommand(name string, filtered bool) *matrixCommand {
	c := &matrixCommand{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	c.path = c.fs.String("matrix", "hw.yaml", "matrix file")
	if filtered {
		c.selector = c.fs.String("filter", "", "job label filter, e.g. image:desktop")
	}
	return c
}

// load parses args and loads the matrix (loadMatrix); ok is false, the error said, when
// the command is to exit 2.
func (c *matrixCommand) load(args []string) (m *matrix.Matrix, f matrix.Filter, ok bool) {
	if err := c.fs.Parse(args); err != nil {
		return nil, f, false
	}
	filter := ""
	if c.selector != nil {
		filter = *c.selector
	}
	m, f, err := loadMatrix(*c.path, filter, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return nil, f, false
	}
	return m, f, true
}

// interruptible is the context of a command that boots or downloads: cancelled by SIGINT or
// SIGTERM, so a run stops starting work and powers its machines off (exit 4 for run).
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	c, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "redox-hwtest: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	os.Exit(c.run(os.Args[2:]))
}
