package kmip

import "math/big"

// EncodedLen returns the length in bytes of the item's binary TTLV encoding
// (KMIP 1.4 §9.1): an 8-byte header plus the value padded to 8 bytes.
func EncodedLen(it *Item) int {
	if it == nil {
		return 0
	}
	return 8 + padded(valueLen(it))
}

func padded(n int) int { return (n + 7) &^ 7 }

func valueLen(it *Item) int {
	switch v := it.Value.(type) {
	case []*Item:
		n := 0
		for _, c := range v {
			n += EncodedLen(c)
		}
		return n
	case string:
		return len(v)
	case []byte:
		return len(v)
	case *big.Int:
		// two's complement, sign-extended to a multiple of 8 bytes
		n := (v.BitLen() + 8) / 8
		return padded(n)
	}
	switch it.Type {
	case TypeInteger, TypeEnumeration, TypeInterval:
		return 4
	}
	return 8
}
