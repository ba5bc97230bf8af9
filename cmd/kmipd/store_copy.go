package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"

	"github.com/kmipd/kmipd/adapters/storage/record"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports"
)

// copyBatch is how many objects one write of the destination holds.
const copyBatch = 256

// storeCopyCmd runs "kmipd store copy -from CONFIG_A -to CONFIG_B": every
// object, with its attributes, owner, policy and revision, and every used
// identifier, from the store A names into the new store B names; then both
// are read again and compared by count and digest.
func storeCopyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kmipd store copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "configuration `file` naming the source store")
	to := fs.String("to", "", "configuration `file` naming the destination store (created; an existing one must be empty)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kmipd store copy -from CONFIG_A -to CONFIG_B\n\n"+
			"Copies every object of the store CONFIG_A names (any storage type) into the store CONFIG_B\n"+
			"names, with its attributes, owner, policy and history, and the identifiers of deleted objects\n"+
			"(still refused by Create in the copy), then compares both by object count and by a digest of\n"+
			"every object. Run it with no kmipd writing to either store (a bbolt store is locked by its\n"+
			"kmipd anyway); stream scratch state is not copied. This is the way between storage types.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil || *from == "" || *to == "" || fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "kmipd: store copy: %s\n", oneLine(fmt.Sprintf(format, a...)))
		return code
	}
	src, code := openConfigured(*from, ports.CreationOpenExisting, stderr)
	if src == nil {
		return code
	}
	defer src.Close()
	dst, code := openConfigured(*to, ports.CreationAuto, stderr)
	if dst == nil {
		return code
	}
	defer dst.Close()
	if ids, err := dst.Locate(ctx, ports.LocateQuery{Limit: 1}); err != nil || len(ids) > 0 {
		return fail(exitFailed, "the destination store is not empty (%v); copy only into a new store", err)
	}
	n, err := copyObjects(ctx, src, dst)
	if err != nil {
		return fail(exitFailed, "after %d objects: %v", n, err)
	}
	used, err := copyUsed(ctx, src, dst)
	if err != nil {
		return fail(exitFailed, "used identifiers: %v", err)
	}
	srcN, srcSum, err := digestStore(ctx, src)
	if err != nil {
		return fail(exitFailed, "reading the source again: %v", err)
	}
	dstN, dstSum, err := digestStore(ctx, dst)
	if err != nil {
		return fail(exitFailed, "reading the copy: %v", err)
	}
	if srcN != dstN || srcSum != dstSum {
		return fail(exitFailed, "the copy differs: %d objects (digest %s) against %d (digest %s)", dstN, dstSum, srcN, srcSum)
	}
	fmt.Fprintf(stdout, "copied %d objects and %d used identifiers; both stores digest to %s\n", n, used, srcSum)
	return exitOK
}

// openConfigured opens the store that the configuration file path names.
func openConfigured(path string, create ports.Creation, stderr io.Writer) (ports.Store, int) {
	var sf serveFlags
	sfs := newServeFlagSet(&sf, io.Discard)
	sf.config = path
	cfg, err := loadConfig(sfs, &sf)
	if err != nil {
		fmt.Fprintf(stderr, "kmipd: %s: %s\n", path, oneLine(err.Error()))
		return nil, exitConfig
	}
	store, err := storageOpeners[cfg.Storage.Type](cfg.Storage, create)
	if err != nil {
		fmt.Fprintf(stderr, "kmipd: store copy: %s %s: %s\n", cfg.Storage.Type, cfg.Storage.Path, oneLine(err.Error()))
		return nil, exitFailed
	}
	return store, exitOK
}

// eachObject calls fn with every object of s in identifier order.
func eachObject(ctx context.Context, s ports.Store, fn func(id string) error) error {
	for after := ""; ; {
		ids, err := s.Locate(ctx, ports.LocateQuery{After: after, Limit: copyBatch})
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := fn(id); err != nil {
				return err
			}
		}
		if len(ids) < copyBatch {
			return nil
		}
		after = ids[len(ids)-1]
	}
}

// copyObjects writes every object of src into dst, a batch per write where
// dst can (ports.BulkCreator).
func copyObjects(ctx context.Context, src, dst ports.Store) (int, error) {
	bulk, _ := dst.(ports.BulkCreator)
	var batch []*domain.Object
	n := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var err error
		if bulk != nil {
			err = bulk.CreateAll(ctx, batch)
		} else {
			for _, o := range batch {
				if err = dst.Create(ctx, o); err != nil {
					break
				}
			}
		}
		n += len(batch)
		batch = batch[:0]
		return err
	}
	err := eachObject(ctx, src, func(id string) error {
		obj, err := src.Get(ctx, id)
		if err != nil {
			return err
		}
		batch = append(batch, obj)
		if len(batch) == copyBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return n, err
}

// copyUsed carries the identifiers of deleted objects over, so that the
// copy keeps refusing them.
func copyUsed(ctx context.Context, src, dst ports.Store) (int, error) {
	su, ok1 := src.(ports.UsedIdentifiers)
	du, ok2 := dst.(ports.UsedIdentifiers)
	if !ok1 {
		return 0, nil
	}
	if !ok2 {
		return 0, errors.New("the destination store cannot record used identifiers")
	}
	n := 0
	for after := ""; ; {
		ids, err := su.UsedIDs(ctx, after, copyBatch)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		if err := du.MarkUsed(ctx, ids); err != nil {
			return n, err
		}
		n += len(ids)
		after = ids[len(ids)-1]
	}
}

// digestStore is the number of objects of s and a SHA-256 over each one's
// canonical record encoding, in identifier order.
func digestStore(ctx context.Context, s ports.Store) (int, string, error) {
	var h hash.Hash = sha256.New()
	n := 0
	err := eachObject(ctx, s, func(id string) error {
		obj, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		b, err := record.Marshal(obj)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%d:%s:%d:", len(id), id, len(b))
		h.Write(b)
		n++
		return nil
	})
	return n, hex.EncodeToString(h.Sum(nil)), err
}
