//! A selection in a list, with the scroll offset that keeps it on screen.

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub selected: usize,
    /// The first row on screen.
    pub offset: usize,
}

impl Cursor {
    /// Move by `delta` within `count` rows, keeping the selection inside the `visible`
    /// rows that start at `offset`.
    pub fn move_by(&mut self, delta: isize, count: usize, visible: usize) {
        if count == 0 {
            *self = Cursor::default();
            return;
        }
        self.selected = self.selected.saturating_add_signed(delta).min(count - 1);
        let visible = visible.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + visible {
            self.offset = self.selected + 1 - visible;
        }
    }

    /// Select the row `row` places below the first one on screen, if it exists.
    pub fn click(&mut self, row: usize, count: usize) -> bool {
        let target = self.offset + row;
        if target < count {
            self.selected = target;
            true
        } else {
            false
        }
    }

    pub fn reset(&mut self) {
        *self = Cursor::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_stays_in_the_window() {
        let mut cursor = Cursor::default();
        cursor.move_by(7, 10, 5);
        assert_eq!(
            cursor,
            Cursor {
                selected: 7,
                offset: 3
            }
        );
        cursor.move_by(-6, 10, 5);
        assert_eq!(
            cursor,
            Cursor {
                selected: 1,
                offset: 1
            }
        );
        cursor.move_by(isize::MAX / 2, 10, 5);
        assert_eq!(cursor.selected, 9);
        cursor.move_by(1, 0, 5);
        assert_eq!(cursor, Cursor::default());
    }
}
