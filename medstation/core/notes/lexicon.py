"""The findings vocabulary: phrases that name a problem or finding, and the CheXpert-style observation they count
towards. Written for chest radiograph reports (after the CheXpert labeler's mention lists) plus common problems in
clinical notes, which appear in the concept table under "other"."""
from __future__ import annotations

OBSERVATIONS = ("no finding", "enlarged cardiomediastinum", "cardiomegaly", "lung opacity", "lung lesion", "edema",
                "consolidation", "pneumonia", "atelectasis", "pneumothorax", "pleural effusion", "pleural other",
                "fracture", "support devices")

FINDING_PHRASES: dict[str, tuple[str, ...]] = {
    "enlarged cardiomediastinum": (
        "enlarged cardiomediastinum", "enlarged cardiomediastinal silhouette", "widened mediastinum",
        "mediastinal widening", "mediastinal enlargement", "widening of the mediastinum", "enlarged mediastinum",
        "mediastinum is widened", "mediastinum is enlarged", "cardiomediastinal silhouette is enlarged",
        "cardiomediastinal silhouette is widened", "mediastinal contour is widened"),
    "cardiomegaly": (
        "cardiomegaly", "enlarged heart", "heart is enlarged", "cardiac enlargement", "enlarged cardiac silhouette",
        "cardiac silhouette is enlarged", "heart size is enlarged", "enlargement of the heart",
        "enlargement of the cardiac silhouette", "heart size is increased", "increased heart size",
        "enlarged heart size", "heart is mildly enlarged", "heart is moderately enlarged",
        "cardiac silhouette is mildly enlarged", "heart size is mildly enlarged", "mild cardiomegaly"),
    "lung opacity": (
        "opacity", "opacities", "opacification", "opacifications", "infiltrate", "infiltrates", "infiltration",
        "airspace disease", "air space disease", "air-space disease", "airspace opacity", "density",
        "densities", "interstitial markings", "interstitial marking", "interstitial opacities",
        "interstitial pattern", "reticular opacities", "reticular markings", "reticulation", "haziness",
        "scarring", "scar", "fibrosis", "fibrotic changes", "peribronchial thickening", "bronchial wall thickening",
        "increased markings", "streaky opacities"),
    "lung lesion": (
        "nodule", "nodules", "mass", "masses", "lesion", "lesions", "nodular density", "nodular opacity",
        "nodular opacities", "tumor", "tumour", "neoplasm", "carcinoma", "cavitary lesion", "cavitation",
        "metastasis", "metastases", "metastatic disease"),
    "edema": (
        "edema", "pulmonary edema", "interstitial edema", "alveolar edema", "vascular congestion",
        "pulmonary vascular congestion", "pulmonary congestion", "heart failure", "congestive heart failure",
        "chf", "fluid overload", "cephalization", "kerley b lines"),
    "consolidation": ("consolidation", "consolidations", "consolidative opacity", "consolidative opacities",
                      "airspace consolidation", "lobar consolidation"),
    "pneumonia": ("pneumonia", "pneumonias", "bronchopneumonia", "pneumonitis", "infection", "infectious process",
                  "infectious infiltrate", "aspiration"),
    "atelectasis": ("atelectasis", "atelectatic", "atelectatic changes", "subsegmental atelectasis",
                    "discoid atelectasis", "plate-like atelectasis", "platelike atelectasis", "collapse",
                    "volume loss", "lobar collapse"),
    "pneumothorax": ("pneumothorax", "pneumothoraces", "pneumothoraxes", "hydropneumothorax"),
    "pleural effusion": ("pleural effusion", "pleural effusions", "effusion", "effusions", "pleural fluid",
                         "blunting of the costophrenic angle", "blunting of the costophrenic angles",
                         "costophrenic angle blunting", "blunted costophrenic angle", "blunted costophrenic angles",
                         "hydrothorax"),
    "pleural other": ("pleural thickening", "pleural scarring", "fibrothorax", "pleural plaque", "pleural plaques",
                      "pleural calcification", "pleural calcifications", "pleural-parenchymal scarring"),
    "fracture": ("fracture", "fractures", "fractured", "rib fracture", "rib fractures", "compression fracture",
                 "compression deformity", "healed fracture"),
    "support devices": (
        "pacemaker", "pacer", "defibrillator", "aicd", "icd", "endotracheal tube", "et tube", "enteric tube",
        "nasogastric tube", "ng tube", "feeding tube", "orogastric tube", "central line", "central venous catheter",
        "picc", "picc line", "catheter", "port", "port-a-cath", "chest tube", "drain", "sternotomy wires",
        "sternal wires", "median sternotomy", "sternotomy", "surgical clips", "clips", "clip", "stent", "stents",
        "hardware", "prosthesis", "valve replacement", "prosthetic valve", "tracheostomy", "tracheostomy tube",
        "leads", "swan-ganz catheter", "device", "devices", "wires", "coil", "coils", "cabg"),
}

OTHER_PROBLEMS: tuple[str, ...] = (
    "granuloma", "granulomas", "calcified granuloma", "granulomatous disease", "emphysema", "copd",
    "hyperinflation", "hyperinflated lungs", "hyperexpanded lungs", "chronic obstructive pulmonary disease",
    "scoliosis", "degenerative changes", "degenerative disease", "osteopenia", "kyphosis", "hiatal hernia",
    "tortuous aorta", "aortic ectasia", "atherosclerosis", "calcification", "calcifications",
    "aortic calcification", "bronchiectasis", "hernia", "chest pain", "cough", "shortness of breath",
    "dyspnea", "fever", "hypoxia", "wheezing", "hemoptysis", "tuberculosis", "tb", "asthma", "diabetes",
    "hypertension", "coronary artery disease", "cad", "atrial fibrillation", "myocardial infarction", "stroke",
    "cancer", "lung cancer", "breast cancer", "sepsis", "anemia", "renal failure", "kidney disease", "obesity",
    "smoking", "headache", "nausea", "vomiting", "abdominal pain", "trauma", "injury", "pain",
    "deep vein thrombosis", "dvt", "pulmonary embolism", "hypothyroidism", "depression", "dementia",
)


def target_rules() -> list[tuple[str, str]]:
    """(phrase, observation or "other") for every phrase, longest phrases first."""
    rules = [(p, obs) for obs, phrases in FINDING_PHRASES.items() for p in phrases]
    rules += [(p, "other") for p in OTHER_PROBLEMS]
    return sorted(rules, key=lambda r: -len(r[0]))
