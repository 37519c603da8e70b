//! Typo augmentation: the misspellings a search box meets, made on the fly while training so
//! that a mistyped known query still lands on its intent rather than on "unknown".

use rand::Rng;

/// Words with fewer letters than this are left alone: short words are rarely mistyped in a
/// way that keeps them readable, and their pieces carry most of a query's meaning.
const MIN_LETTERS: usize = 4;

const ASCII_LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

/// `text` with one random character edit (deletion, swap of neighbours, substitution or
/// insertion) in each word of 4+ letters, each word with probability `rate`. Words are runs
/// between spaces, so scripts written without spaces count a whole run as one word.
/// Substituted and inserted letters are a–z in ASCII words, the word's own letters otherwise.
pub fn misspell(text: &str, rate: f64, rng: &mut impl Rng) -> String {
    text.split(' ')
        .map(|word| {
            let letters = word.chars().filter(|c| c.is_alphabetic()).count();
            if letters >= MIN_LETTERS && rng.gen_bool(rate.clamp(0.0, 1.0)) {
                edit_word(word, rng)
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One random edit at a letter of `word` (which has at least `MIN_LETTERS` letters). An
/// edit that happens to give the word back (a swap of equal neighbours, a letter for
/// itself) becomes a deletion, so every chosen word changes.
fn edit_word(word: &str, rng: &mut impl Rng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let original = chars.clone();
    let positions: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_alphabetic())
        .collect();
    let at = positions[rng.gen_range(0..positions.len())];
    let random_letter = |rng: &mut _| -> char {
        if word.is_ascii() {
            ASCII_LETTERS[Rng::gen_range(rng, 0..ASCII_LETTERS.len())] as char
        } else {
            chars[positions[Rng::gen_range(rng, 0..positions.len())]]
        }
    };
    match rng.gen_range(0..4) {
        0 => {
            chars.remove(at);
        }
        1 => {
            let left = at.min(chars.len() - 2);
            chars.swap(left, left + 1);
        }
        2 => chars[at] = random_letter(rng),
        _ => {
            let letter = random_letter(rng);
            chars.insert(at, letter);
        }
    }
    if chars == original {
        chars.remove(at);
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha12Rng;

    #[test]
    fn rate_zero_keeps_the_text_and_rate_one_edits_every_long_word() {
        let mut rng = ChaCha12Rng::seed_from_u64(1);
        let text = "set an alarm for tomorrow morning";
        assert_eq!(misspell(text, 0.0, &mut rng), text);
        for _ in 0..50 {
            let edited = misspell(text, 1.0, &mut rng);
            let (old, new): (Vec<_>, Vec<_>) =
                (text.split(' ').collect(), edited.split(' ').collect());
            assert_eq!(old.len(), new.len(), "{edited}");
            for (a, b) in old.iter().zip(&new) {
                let short = a.chars().count() < MIN_LETTERS;
                assert_eq!(short, a == b, "{a} -> {b}");
                assert!(
                    a.chars().count().abs_diff(b.chars().count()) <= 1,
                    "{a} -> {b}"
                );
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_typos_and_non_ascii_stays_in_its_script() {
        let text = "今天天气怎么样 météo demain";
        let a = misspell(text, 1.0, &mut ChaCha12Rng::seed_from_u64(7));
        let b = misspell(text, 1.0, &mut ChaCha12Rng::seed_from_u64(7));
        assert_eq!(a, b);
        let first = a.split(' ').next().unwrap();
        assert!(first.chars().all(|c| "今天气怎么样".contains(c)), "{a}");
    }
}
