//! Every view fits a strip beside the softphone: at 360 px and at 1280 px, in English and
//! Russian, no widget of the calls view (form and list), the call sources or the settings
//! runs off the window's edge.

use egui_kittest::kittest::{By, NodeT as _, Queryable as _};
use pyrus_phone::ui::i18n::Language;

use crate::window::{Rig, register, rig, step_until};

/// The widgets that run off a `width`-wide window, named for the failure message.
fn overflowing(r: &Rig, width: f32) -> Vec<String> {
    r.h.query_all(By::new())
        .filter(|n| {
            // Nodes without a place (a scroll area's content root) are not drawn.
            n.accesskit_node().bounding_box().is_some() && {
                let rect = n.rect();
                rect.is_positive() && (rect.right() > width + 0.5 || rect.left() < -0.5)
            }
        })
        .map(|n| {
            let node = n.accesskit_node();
            let name = node.label().or_else(|| node.value()).unwrap_or_default();
            format!("{:?} '{name}' {:?}", node.role(), n.rect())
        })
        .collect()
}

fn check(r: &mut Rig, what: &str, width: f32) {
    r.h.run();
    let off = overflowing(r, width);
    assert!(off.is_empty(), "{what} at {width} px: {off:#?}");
}

#[test]
fn every_view_fits_at_360_and_1280_px_in_english_and_russian() {
    let mut r = rig();
    register(&mut r);
    r.hear("ring", "79160000002", "fit-1", "http");
    r.hear("end", "79160000002", "fit-1", "http");
    step_until(&mut r.h, "two rows", |h| {
        h.state().state.list.calls.len() == 2
    });
    for lang in [Language::En, Language::Ru] {
        r.h.state_mut().state.system_lang = lang;
        r.h.state_mut().state.lang = lang;
        for (width, height) in [(360.0, 640.0), (1280.0, 800.0)] {
            r.h.set_size(egui::vec2(width, height));
            let state = &mut r.h.state_mut().state;
            state.view = pyrus_phone::ui::View::Calls;
            state.pane = pyrus_phone::ui::Pane::Form;
            check(&mut r, &format!("{lang:?} calls (form)"), width);
            r.h.state_mut().state.pane = pyrus_phone::ui::Pane::List;
            check(&mut r, &format!("{lang:?} calls (list)"), width);
            r.h.state_mut().state.view = pyrus_phone::ui::View::Sources;
            check(&mut r, &format!("{lang:?} call sources"), width);
            r.h.state_mut().state.view = pyrus_phone::ui::View::Settings;
            check(&mut r, &format!("{lang:?} settings"), width);
        }
    }
    r.shutdown();
}
