//! How the bundle-loader targets turn fuzz input into a bundle's three files. The first byte
//! picks a mode: even: the input is split into three files (two little-endian u16 lengths,
//! then the bytes); odd: a valid bundle with one file overwritten by the input's bytes at an
//! offset (mutating a valid bundle reaches deeper), or with the high bit set, cut there and
//! the input's bytes appended.

/// The three files for `data`, from `valid` in the odd modes; `None`: too short to say.
pub fn files(data: &[u8], valid: [&[u8]; 3]) -> Option<[Vec<u8>; 3]> {
    let (&mode, rest) = data.split_first()?;
    if mode % 2 == 0 {
        if rest.len() < 4 {
            return None;
        }
        let a = u16::from_le_bytes([rest[0], rest[1]]) as usize;
        let b = u16::from_le_bytes([rest[2], rest[3]]) as usize;
        let body = &rest[4..];
        let a = a.min(body.len());
        let b = b.min(body.len() - a);
        return Some([
            body[..a].to_vec(),
            body[a..a + b].to_vec(),
            body[a + b..].to_vec(),
        ]);
    }
    if rest.len() < 2 {
        return None;
    }
    let mut files = valid.map(<[u8]>::to_vec);
    let file = &mut files[(mode as usize / 2) % 3];
    let offset = (u16::from_le_bytes([rest[0], rest[1]]) as usize) % (file.len() + 1);
    let patch = &rest[2..];
    if mode & 0x80 != 0 {
        file.truncate(offset);
        file.extend_from_slice(patch);
    } else {
        for (i, &byte) in patch.iter().enumerate() {
            match file.get_mut(offset + i) {
                Some(slot) => *slot = byte,
                None => file.push(byte),
            }
        }
    }
    Some(files)
}
