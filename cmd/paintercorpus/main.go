// Command paintercorpus writes painterc's synthetic training corpus and
// held-out task files, deterministically from a seed.
//
//	paintercorpus --seed 1 --out build/corpus --train-docs 200000
//
// writes train.txt, valid.txt (documents separated by blank lines) and
// tasks/<name>.jsonl.
//
//	paintercorpus --seed 1 --english-arith-mc build/paper/english_arith_mc.jsonl --task-items 300
//
// writes only the English arithmetic task for real pretrained models
// (corpus.(*Generator).EnglishArithMC), which needs no world or corpus.
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/painterc/painterc/corpus"
	"github.com/spf13/pflag"
)

func main() {
	seed := pflag.Uint64("seed", 1, "random seed; the same seed writes the same files")
	out := pflag.String("out", "build/corpus", "output directory")
	trainDocs := pflag.Int("train-docs", 200000, "training documents")
	validDocs := pflag.Int("valid-docs", 2000, "validation documents")
	items := pflag.Int("task-items", 500, "items per generated task (facts_mc has one per stored fact and template)")
	people := pflag.Int("people", corpus.DefaultConfig.People, "people in the world")
	towns := pflag.Int("towns", corpus.DefaultConfig.Towns, "towns in the world")
	englishArith := pflag.String("english-arith-mc", "", "write only the English arithmetic task (plain decimals, for real pretrained models) to this file, with --task-items documents, and stop")
	pflag.Parse()
	if *englishArith != "" {
		t := corpus.NewGenerator(nil, *seed, 200).EnglishArithMC(*items)
		if err := writeFile(*englishArith, func(b *bufio.Writer) error { return t.Write(b) }); err != nil {
			fmt.Fprintln(os.Stderr, "paintercorpus:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*seed, *out, *trainDocs, *validDocs, *items, corpus.Config{People: *people, Towns: *towns}); err != nil {
		fmt.Fprintln(os.Stderr, "paintercorpus:", err)
		os.Exit(1)
	}
}

func writeFile(path string, f func(*bufio.Writer) error) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(fh)
	if err := f(w); err != nil {
		fh.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

func run(seed uint64, out string, trainDocs, validDocs, items int, cfg corpus.Config) error {
	if err := os.MkdirAll(filepath.Join(out, "tasks"), 0o755); err != nil {
		return err
	}
	w := corpus.NewWorld(seed, cfg)
	if err := writeFile(filepath.Join(out, "train.txt"), func(b *bufio.Writer) error {
		return corpus.WriteDocs(b, corpus.NewGenerator(w, seed, 10), trainDocs)
	}); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(out, "valid.txt"), func(b *bufio.Writer) error {
		return corpus.WriteDocs(b, corpus.NewGenerator(w, seed, 11), validDocs)
	}); err != nil {
		return err
	}
	for _, t := range corpus.AllTasks(w, seed, items) {
		t := t
		if err := writeFile(filepath.Join(out, "tasks", t.Header.Name+".jsonl"), func(b *bufio.Writer) error { return t.Write(b) }); err != nil {
			return err
		}
	}
	return nil
}
