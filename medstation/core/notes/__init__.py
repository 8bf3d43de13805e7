"""Clinical notes: reading notes and reports, sections, concepts with ConText attributes, weak labels, PHI scrubbing.

Pure Python over spaCy/medspaCy (imported inside functions); no Qt, no torch.
"""
