-- name: jobs-waiting
-- River's queue is shared by every org; /health reports its depth.
SELECT count(*) FROM river_job WHERE state = 'available';
