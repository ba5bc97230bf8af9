package app

import (
	"context"
	"math/big"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// joinSplitKey implements Join Split Key.
func (s *Service) joinSplitKey(ctx context.Context, c *call) (*kmip.Item, error) {
	t, err := objectType(c)
	if err != nil {
		return nil, err
	}
	if t != kmip.ObjectTypeSymmetricKey && t != kmip.ObjectTypeSecretData {
		return nil, badObjectType("Join Split Key cannot make %s objects", t)
	}
	req, err := codec.DecodeJoinSplitKey(c.payload)
	if err != nil {
		return nil, err
	}
	attrs, err := s.requestedAttrs(ctx, c)
	if err != nil {
		return nil, err
	}
	parts, err := s.splitParts(ctx, c, req.IDs)
	if err != nil {
		return nil, err
	}
	secret, err := join(parts)
	if err != nil {
		return nil, err
	}
	obj, err := s.newObject(ctx, c, t, attrs)
	if err != nil {
		return nil, err
	}
	obj.Payload = joinedPayload(req, t, parts[0].Child(kmip.TagKeyBlock), secret)
	if err := s.storeNew(ctx, c, obj); err != nil {
		return nil, err
	}
	return codec.IDResponse(obj.ID), nil
}

// splitParts loads the Split Key payloads a Join Split Key names (ids, at
// least one), each readable by the caller under the policy's Get rule.
func (s *Service) splitParts(ctx context.Context, c *call, ids []string) ([]*kmip.Item, error) {
	var parts []*kmip.Item
	for _, id := range ids {
		// Joining reads the parts' key material: the policy's Get rule governs it.
		obj, err := s.loadAs(ctx, c, id, kmip.OperationGet)
		if err != nil {
			return nil, err
		}
		if kmip.ObjectType(obj.Type) != kmip.ObjectTypeSplitKey {
			return nil, domain.ErrNotApplicable
		}
		if obj.Payload == nil {
			return nil, errorf(kmip.ResultReasonItemNotFound, "split key %s has been destroyed", id)
		}
		parts = append(parts, obj.Payload)
	}
	return parts, nil
}

// joinedPayload is the object a join makes from secret: a Raw Symmetric
// Key with the parts' algorithm and length (from kb, the first part's key
// block), or Secret Data of the requested type (Seed when none).
func joinedPayload(req codec.JoinSplitKeyRequest, t kmip.ObjectType, kb *kmip.Item, secret []byte) *kmip.Item {
	block := kmip.Struct(kmip.TagKeyBlock,
		kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
		kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, secret)))
	if t == kmip.ObjectTypeSymmetricKey {
		block.Add(kb.Child(kmip.TagCryptographicAlgorithm).Clone(), kb.Child(kmip.TagCryptographicLength).Clone())
		return kmip.Struct(kmip.TagSymmetricKey, block)
	}
	sdt := uint32(kmip.SecretDataTypeSeed)
	if req.SecretDataType != nil {
		sdt = uint32(*req.SecretDataType)
	}
	return kmip.Struct(kmip.TagSecretData, kmip.Enum(kmip.TagSecretDataType, sdt), block)
}

// join rebuilds a secret from split key payloads; too few or inconsistent
// parts are a Cryptographic Failure (OASIS TC-SJ-1-14).
func join(parts []*kmip.Item) ([]byte, error) {
	sp, err := readSplitParts(parts)
	if err != nil {
		return nil, err
	}
	switch sp.method {
	case kmip.SplitKeyMethodXOR:
		return joinXOR(sp.ys), nil
	case kmip.SplitKeyMethodPolynomialSharingGF2_8, kmip.SplitKeyMethodPolynomialSharingGF2_16:
		return joinBinaryField(fields[sp.method], sp)
	case kmip.SplitKeyMethodPolynomialSharingPrimeField:
		return joinPrimeField(sp)
	}
	return nil, joinFailure("Split Key Method %s is not supported", sp.method)
}

// joinFailure is a Cryptographic Failure of Join Split Key.
func joinFailure(format string, args ...any) error {
	return errorf(kmip.ResultReasonCryptographicFailure, format, args...)
}

// splitParts are the parts of one split, checked to agree: the first
// threshold of xs (Key Part Identifiers) and ys (their key material)
// rebuild the secret.
type splitParts struct {
	method    kmip.SplitKeyMethod
	threshold int32
	prime     *big.Int // Prime Field Size, for the prime field method
	length    int32    // the first part's Cryptographic Length
	xs        []int32
	ys        [][]byte
}

// readSplitParts reads split key payloads that must be parts of one split,
// distinct, of one length and at least the threshold in number.
func readSplitParts(parts []*kmip.Item) (splitParts, error) {
	first := parts[0]
	n, _ := first.Child(kmip.TagSplitKeyParts).AsInt()
	threshold, _ := first.Child(kmip.TagSplitKeyThreshold).AsInt()
	mv, _ := first.Child(kmip.TagSplitKeyMethod).AsEnum()
	prime, _ := first.Child(kmip.TagPrimeFieldSize).AsBig()
	length, _ := first.Path(kmip.TagKeyBlock, kmip.TagCryptographicLength).AsInt()
	sp := splitParts{method: kmip.SplitKeyMethod(mv), threshold: threshold, prime: prime, length: length,
		xs: make([]int32, len(parts)), ys: make([][]byte, len(parts))}
	seen := map[int32]bool{}
	for i, p := range parts {
		pn, _ := p.Child(kmip.TagSplitKeyParts).AsInt()
		pt, _ := p.Child(kmip.TagSplitKeyThreshold).AsInt()
		pm, _ := p.Child(kmip.TagSplitKeyMethod).AsEnum()
		if pn != n || pt != threshold || pm != mv {
			return splitParts{}, joinFailure("the split keys are not parts of one split")
		}
		x, _ := p.Child(kmip.TagKeyPartIdentifier).AsInt()
		if seen[x] || x < 1 || x > maxSplitParts {
			return splitParts{}, joinFailure("Key Part Identifier %d is repeated or out of range", x)
		}
		seen[x] = true
		b, ok := p.Path(kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
		if !ok || (i > 0 && len(b) != len(sp.ys[0])) || len(b) > maxSplitKeyBytes {
			return splitParts{}, joinFailure("the split keys hold no raw key material of one length")
		}
		sp.xs[i], sp.ys[i] = x, b
	}
	if threshold < 1 {
		return splitParts{}, joinFailure("Split Key Threshold %d is not positive", threshold)
	}
	if int32(len(parts)) < threshold {
		return splitParts{}, joinFailure("%d parts given, %d needed", len(parts), threshold)
	}
	return sp, nil
}

// joinXOR is the XOR of every part.
func joinXOR(ys [][]byte) []byte {
	out := make([]byte, len(ys[0]))
	for _, y := range ys {
		for j := range out {
			out[j] ^= y[j]
		}
	}
	return out
}

// joinBinaryField interpolates the parts at 0 in GF(2^8) or GF(2^16),
// element by element.
func joinBinaryField(f binaryField, sp splitParts) ([]byte, error) {
	xs, ys := sp.xs[:sp.threshold], sp.ys
	if len(ys[0])%f.size != 0 {
		return nil, joinFailure("the split keys are not whole field elements")
	}
	out := make([]byte, len(ys[0]))
	for i := range xs {
		// Lagrange basis at 0: prod x_m / (x_m - x_i); minus is XOR.
		xi := uint16(xs[i])
		li := uint16(1)
		for m := range xs {
			if m != i {
				xm := uint16(xs[m])
				li = f.mul(li, f.mul(xm, f.inv(xm^xi)))
			}
		}
		for j := 0; j < len(out)/f.size; j++ {
			f.put(out, j, f.get(out, j)^f.mul(li, f.get(ys[i], j)))
		}
	}
	return out, nil
}

// joinPrimeField interpolates the parts at 0 modulo the Prime Field Size;
// the secret has the bytes of the first part's Cryptographic Length.
func joinPrimeField(sp splitParts) ([]byte, error) {
	prime := sp.prime
	if prime == nil || prime.Sign() <= 0 || prime.BitLen() > maxPrimeFieldBits {
		return nil, joinFailure("the split keys lack a Prime Field Size of at most %d bits", maxPrimeFieldBits)
	}
	xs := sp.xs[:sp.threshold]
	sum := new(big.Int)
	for i := range xs {
		num, den := big.NewInt(1), big.NewInt(1)
		for m := range xs {
			if m != i {
				num.Mul(num, big.NewInt(int64(xs[m]))).Mod(num, prime)
				den.Mul(den, big.NewInt(int64(xs[m]-xs[i]))).Mod(den, prime)
			}
		}
		inv := new(big.Int).ModInverse(den, prime)
		if inv == nil {
			return nil, joinFailure("the parts do not interpolate")
		}
		term := new(big.Int).SetBytes(sp.ys[i])
		term.Mul(term, num).Mul(term, inv).Mod(term, prime)
		sum.Add(sum, term).Mod(sum, prime)
	}
	size := int(sp.length+7) / 8
	if size == 0 || sum.BitLen() > size*8 {
		size = (sum.BitLen() + 7) / 8
	}
	return sum.FillBytes(make([]byte, size)), nil
}
