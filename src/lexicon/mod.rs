//! A sentiment lexicon on the device: VADER's word ratings and rules.
//!
//! A classifier blob may carry VADER's lexicon ([`Lexicon`], sections `lexicon.*`) and a gate
//! that weighs VADER's compound score ([`compound`]) into the label margin by what the encoder
//! reads in the text (see `model::bert`). [`compound`] is also usable alone: it is VADER 3.3.2's
//! `polarity_scores(text)["compound"]`, rule for rule.

mod case_tables;
mod table;
mod text;
mod vader;

#[cfg(feature = "std")]
pub use table::encode;
pub use table::{Lexicon, BLOCK, BLOCKS, MAX_WORD, TABLE, WORDS};
pub use vader::{compound, MAX_WORDS};
