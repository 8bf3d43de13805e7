"""The findings classifier for reports and notes, and its SHAP explanations. No Qt; sklearn/shap imported lazily."""
