// Package fit is gle's one run driver: the loop of epochs under every
// front door — `gle train`, the published experiments (`gle run
// mnist1d*`, `gle run speech`) and Python's Trainer.fit — in the spirit
// of gonum's optimize.Minimize: one loop, its Settings, and a Recorder
// that sees every record.
//
// Run owns what all of them share:
//
//   - batches drawn from data sources (data.Source: shuffled,
//     class-balanced with replacement, or in order; per-draw transforms
//     such as augmentation; samples of unequal length padded as the
//     batch says), the learner's state carried from batch to batch as
//     the reference does, or reset per epoch, and populations that start
//     every sequence from rest;
//   - evaluations on training, validation and test sources — before
//     training (epoch 0), after every epoch, once at the end — on the
//     carried state (the reference) or from rest, and which loss feeds
//     the learning-rate schedule (optim.Plateau, StepDecay, Cosine);
//     both of the paper's protocols (SPEC §9, docs/model.md §9) are
//     plain settings;
//   - per-epoch metrics: the mean per-step loss, and for class labels
//     the accuracy of the argmax of the outputs summed over a sequence's
//     steps, and the confusion matrix;
//   - checkpoints and resume: one format (gle.TrainerOf.Save with the
//     driver's progress as its meta), written atomically after every
//     epoch and when a run is stopped — within an epoch too, at any dt
//     step, so that a resumed run continues bit for bit; a checkpoint of
//     a changed run is refused, naming each difference once;
//   - stopping on a context (signals), and the trainer's divergence
//     guard (gle.ErrDiverged, raised before an update is applied).
//
// The learner is any gle.Learner: float64 or float32, GLE's local rule
// or an exact one. Run never forks on them.
package fit
