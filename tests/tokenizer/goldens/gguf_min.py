# The few GGUF (v3) pieces the golden generators need to write a vocabulary-only file for
# llama.cpp: keys and values, no tensors.
import struct

STRING, ARRAY, U8, I32, U32, F32, BOOL = 8, 9, 0, 5, 4, 6, 7
_SCALAR = {U8: "<B", I32: "<i", U32: "<I", F32: "<f", BOOL: "<?"}


def _str(x):
    b = x.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(typ, v):
    if typ == STRING:
        return _str(v)
    return struct.pack(_SCALAR[typ], v)


def write(path, kvs):
    """kvs: (key, type, value) with type STRING/U8/I32/U32/F32/BOOL, or (key, (ARRAY, elem), list)."""
    out = []
    for key, typ, v in kvs:
        if isinstance(typ, tuple):
            elem = typ[1]
            payload = struct.pack("<IQ", elem, len(v)) + b"".join(_value(elem, x) for x in v)
            out.append(_str(key) + struct.pack("<I", ARRAY) + payload)
        else:
            out.append(_str(key) + struct.pack("<I", typ) + _value(typ, v))
    with open(path, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, 0, len(out)) + b"".join(out))


def arch_keys(arch):
    """The hyperparameters llama.cpp reads even for a vocabulary-only load."""
    return [("general.architecture", STRING, arch)] + [
        (arch + "." + k, U32, v) for k, v in [("block_count", 1), ("context_length", 512),
                                              ("embedding_length", 64), ("feed_forward_length", 128),
                                              ("attention.head_count", 4)]]
